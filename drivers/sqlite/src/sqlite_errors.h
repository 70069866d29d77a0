// The SQLite driver's native error table: how a SQLite result code becomes a
// kvstore::Failure (and so an Error). Pure functions of the code, callable
// without a database, so tests can check every row. Internal: not installed.
#pragma once

#include <chrono>
#include <exception>
#include <stdexcept>
#include <string>

#include <kvstore/driver/retry.h>

namespace kvstore::sqlite::detail {

// A failed SQLite call, as the driver's call bodies rethrow it: the result
// code plus what the classifier cannot see in a bare SQLite::Exception.
class SqliteError : public std::runtime_error {
 public:
  // `message` says what failed and where (never a password: SQLite has none).
  SqliteError(int extended_code, std::string message, bool busy_gave_up = true)
      : std::runtime_error(std::move(message)),
        extended_code_(extended_code),
        busy_gave_up_(busy_gave_up) {}

  int extended_code() const noexcept { return extended_code_; }
  // For SQLITE_BUSY/LOCKED: false when SQLite reported the lock without
  // waiting (it does while another process switches a new file to WAL), so
  // the call is worth repeating; true once busy_timeout has been spent.
  bool busy_gave_up() const noexcept { return busy_gave_up_; }

 private:
  int extended_code_;
  bool busy_gave_up_;
};

// What is known about the store when classifying.
struct ClassifyContext {
  bool file_backed = true;                       // false for :memory:, whose only connection
                                                 // must never be discarded (it is the data)
  std::chrono::milliseconds busy_timeout{5000};  // quoted in lock-wait messages
};

// The native code kvstore reports for a SQLite result code: the extended
// result code in decimal ("5" SQLITE_BUSY, "517" SQLITE_BUSY_SNAPSHOT, "8"
// SQLITE_READONLY, "26" SQLITE_NOTADB).
std::string native_code(int extended_code);

// The table itself: the Failure for result code `extended_code` with
// message `message`.
Failure classify_code(int extended_code, std::string message, bool busy_gave_up,
                      const ClassifyContext& context);

// The ErrorClassifier for run_with_retry: understands SqliteError and
// SQLite::Exception; anything else is an internal failure.
Failure classify(const std::exception& e, const ClassifyContext& context);

}  // namespace kvstore::sqlite::detail
