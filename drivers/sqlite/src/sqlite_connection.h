// One SQLite connection of a store's pool, with its prepared statements and
// the driver's client-side deadlines. Internal: not installed.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include <SQLiteCpp/SQLiteCpp.h>

#include "sql.h"

namespace kvstore::sqlite::detail {

// One prepared statement per kind, per connection, prepared on first use.
enum StatementId : std::size_t {
  kGet,
  kGetEntry,
  kLive,
  kUpsert,
  kRemove,
  kInsertAbsent,
  kReplaceEqual,
  kRemoveEqual,
  kListBounded,
  kListUnbounded,
  kListKeysBounded,
  kListKeysUnbounded,
  kSweep,
  kStatementCount
};

// When a call must stop. SQLite itself never gives up on a lock or a slow
// statement unless told, so every call carries both bounds.
struct CallDeadlines {
  std::chrono::steady_clock::time_point command;  // running statements (command_timeout)
  std::chrono::steady_clock::time_point lock;     // waiting for other connections' locks
};

// Used by one thread at a time (the pool's lease holder).
class Connection {
 public:
  // Opens `path`; throws SQLite::Exception. No busy timeout of SQLite's own:
  // the busy handler below waits until the call's lock deadline instead.
  Connection(const std::string& path, int flags);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Sets the deadlines of the call about to run on this connection.
  void begin(const CallDeadlines& deadlines);
  // Whether a lock error is final: the busy handler gave up, or the lock
  // deadline has passed. Otherwise SQLite reported the lock without waiting
  // and the statement is worth repeating.
  bool lock_wait_spent() const;

  SQLite::Statement& statement(const Sql& sql, StatementId id);
  // Sql::get_many[bucket], prepared on first use.
  SQLite::Statement& get_many_statement(const Sql& sql, std::size_t bucket);

  // SQLiteCpp binds text without copying only from a std::string; this buffer
  // holds the JSON text of the current write so no allocation happens per call.
  const std::string& text(std::size_t slot, std::string_view json) {
    scratch_[slot].assign(json);
    return scratch_[slot];
  }
  // A 25 MiB value should not pin 25 MiB per pooled connection.
  void trim_scratch();

  SQLite::Database db;
  bool configured = false;  // journal mode and pragmas applied

 private:
  static int on_busy(void* self, int count);
  static int on_progress(void* self);

  std::array<std::optional<SQLite::Statement>, kStatementCount> statements_;
  std::array<std::optional<SQLite::Statement>, kGetManyBuckets> get_many_;
  std::array<std::string, 2> scratch_;
  CallDeadlines deadlines_{};
  bool busy_gave_up_ = false;
};

}  // namespace kvstore::sqlite::detail
