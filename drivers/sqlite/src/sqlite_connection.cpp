#include "sqlite_connection.h"

#include <sqlite3.h>

#include <algorithm>
#include <thread>

namespace kvstore::sqlite::detail {

namespace {

using SteadyClock = std::chrono::steady_clock;

const std::string& sql_for(const Sql& sql, StatementId id) {
  switch (id) {
    case kGet:
      return sql.get;
    case kGetEntry:
      return sql.get_entry;
    case kLive:
      return sql.live;
    case kUpsert:
      return sql.upsert;
    case kRemove:
      return sql.remove;
    case kInsertAbsent:
      return sql.insert_absent;
    case kReplaceEqual:
      return sql.replace_equal;
    case kRemoveEqual:
      return sql.remove_equal;
    case kListBounded:
      return sql.list_bounded;
    case kListUnbounded:
      return sql.list_unbounded;
    case kListKeysBounded:
      return sql.list_keys_bounded;
    case kListKeysUnbounded:
      return sql.list_keys_unbounded;
    case kSweep:
      return sql.sweep;
    case kStatementCount:
      break;
  }
  return sql.get;
}

// Virtual machine steps between two deadline checks: cheap next to the
// statements, and a few microseconds of work at most.
constexpr int kProgressSteps = 1000;

}  // namespace

Connection::Connection(const std::string& path, int flags) : db(path, flags, 0) {
  sqlite3* handle = db.getHandle();
  sqlite3_extended_result_codes(handle, 1);
  sqlite3_busy_handler(handle, &Connection::on_busy, this);
  sqlite3_progress_handler(handle, kProgressSteps, &Connection::on_progress, this);
  deadlines_ = {SteadyClock::time_point::max(), SteadyClock::time_point::max()};
}

void Connection::begin(const CallDeadlines& deadlines) {
  deadlines_ = deadlines;
  busy_gave_up_ = false;
}

bool Connection::lock_wait_spent() const {
  return busy_gave_up_ || SteadyClock::now() >= deadlines_.lock;
}

SQLite::Statement& Connection::statement(const Sql& sql, StatementId id) {
  std::optional<SQLite::Statement>& slot = statements_[id];
  if (!slot) slot.emplace(db, sql_for(sql, id));
  return *slot;
}

SQLite::Statement& Connection::get_many_statement(const Sql& sql, std::size_t bucket) {
  std::optional<SQLite::Statement>& slot = get_many_.at(bucket);
  if (!slot) slot.emplace(db, sql.get_many.at(bucket));
  return *slot;
}

void Connection::trim_scratch() {
  for (std::string& s : scratch_) {
    if (s.capacity() > (1u << 20)) std::string().swap(s);
  }
}

// SQLite calls this while another connection holds the lock it needs;
// returning 0 makes the statement fail with SQLITE_BUSY. The waits grow
// like SQLite's own busy_timeout handler's, up to the call's lock deadline.
int Connection::on_busy(void* self, int count) {
  auto* c = static_cast<Connection*>(self);
  static constexpr int kDelaysMs[] = {1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50, 100};
  const SteadyClock::time_point now = SteadyClock::now();
  if (now >= c->deadlines_.lock) {
    c->busy_gave_up_ = true;
    return 0;
  }
  const int index = std::min<int>(count, static_cast<int>(std::size(kDelaysMs)) - 1);
  std::this_thread::sleep_until(
      std::min(c->deadlines_.lock, now + std::chrono::milliseconds(kDelaysMs[index])));
  return 1;
}

// Interrupts (SQLITE_INTERRUPT) a statement still running at the call's
// command deadline, so a huge scan cannot hold a caller past command_timeout.
int Connection::on_progress(void* self) {
  return SteadyClock::now() >= static_cast<Connection*>(self)->deadlines_.command ? 1 : 0;
}

}  // namespace kvstore::sqlite::detail
