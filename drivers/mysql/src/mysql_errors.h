// The MySQL driver's native error table: what a MySQL / MariaDB error
// number means to kvstore (an ErrorCode, whether the connection is broken,
// whether the statement may have run, whether repeating it may help).
// Callable without a server and without the client library.
#pragma once

#include <stdexcept>
#include <string>

#include <kvstore/driver/retry.h>

namespace kvstore::mysql {

// What a Connector/C++ SQLException becomes inside the driver, with what
// only the driver knows about the moment it happened: whether the failed
// step ran into its client-side timeout (libmariadb reports a timed-out read
// as the same 2013 "Lost connection" as a reset) and whether a statement
// that writes had been sent. what() is the complete message, without any
// password.
class ServerError : public std::runtime_error {
 public:
  ServerError(const std::string& message, int error_number, bool timed_out = false,
              bool write_sent = false)
      : std::runtime_error(message),
        error_number_(error_number),
        timed_out_(timed_out),
        write_sent_(write_sent) {}

  int error_number() const noexcept { return error_number_; }
  bool timed_out() const noexcept { return timed_out_; }
  bool write_sent() const noexcept { return write_sent_; }

 private:
  int error_number_;
  bool timed_out_;
  bool write_sent_;
};

// Error numbers the driver itself reacts to.
inline constexpr int kServerGone = 2006;   // CR_SERVER_GONE_ERROR
inline constexpr int kNoSuchTable = 1146;  // ER_NO_SUCH_TABLE
inline constexpr int kBadField = 1054;     // ER_BAD_FIELD_ERROR
inline constexpr int kKeyTooLong = 1071;   // ER_TOO_LONG_KEY

// True for errors after which the connection is unusable.
bool is_connection_failure(int error_number) noexcept;
// True for connection failures after which a statement already sent may
// have run (the reply was lost), false when it certainly never ran.
bool may_have_run(int error_number) noexcept;

// The native error table.
Failure classify_error(const ServerError& error);

// The ErrorClassifier for run_with_retry: a ServerError through the table
// above; any other exception is internal and leaves the connection in an
// unknown state.
Failure classify(const std::exception& e);

// "<what> (error N, SQLSTATE S)": a server message as the driver quotes it.
std::string describe(const std::string& what, int error_number, const std::string& sql_state);

}  // namespace kvstore::mysql
