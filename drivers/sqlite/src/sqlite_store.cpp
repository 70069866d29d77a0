#include <kvstore/sqlite.h>

#include <sqlite3.h>

#include <unistd.h>
#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <map>
#include <mutex>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include <SQLiteCpp/SQLiteCpp.h>
#include <kvstore/deadline.h>
#include <kvstore/driver.h>

#include "sql.h"

namespace kvstore::sqlite {

namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using namespace std::chrono_literals;

constexpr const char* kDriver = "sqlite";

// Each duration option's range, the same for URLs and for Options.
struct DurationRange {
  milliseconds min, max;
};
constexpr DurationRange kBusyTimeoutRange{0ms, 1h};
constexpr DurationRange kPoolTimeoutRange{1ms, 1h};
constexpr DurationRange kSweepIntervalRange{0ms, 1h};

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// `now` (epoch ms) plus `duration`, clamped rather than overflowing: the core
// bounds TTLs by kMaxTtl and create() the intervals, but an expiry time must
// never wrap into the past whatever reaches here.
std::int64_t later_ms(std::int64_t now, milliseconds duration) {
  using TimePoint = std::chrono::time_point<std::chrono::system_clock, milliseconds>;
  return saturating_add(TimePoint(milliseconds(now)), duration).time_since_epoch().count();
}

// Turns a SQLite failure into the kvstore error a caller can act on.
[[noreturn]] void raise(const SQLite::Exception& e, const std::string& doing,
                        const std::string& where, std::chrono::milliseconds busy_timeout) {
  const int code = e.getErrorCode();
  std::string message = doing + " " + where + ": " + e.what();
  switch (code & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      throw Error(ErrorCode::timeout,
                  message + " (still locked by another connection after busy_timeout=" +
                      std::to_string(busy_timeout.count()) + "ms)",
                  kDriver, true);
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_AUTH:
      throw Error(ErrorCode::permission_denied, message, kDriver, false);
    case SQLITE_NOTADB:
      throw Error(ErrorCode::corrupt, doing + " " + where + ": the file is not a SQLite database",
                  kDriver, false);
    case SQLITE_CORRUPT:
      throw Error(ErrorCode::corrupt, message, kDriver, false);
    case SQLITE_TOOBIG:
      throw Error(ErrorCode::limit_exceeded, message, kDriver, false);
    case SQLITE_CANTOPEN:
    case SQLITE_IOERR:
    case SQLITE_FULL:
      throw Error(ErrorCode::unavailable, message, kDriver, true);
    default:
      throw Error(ErrorCode::internal, message, kDriver, false);
  }
}

// One prepared statement per kind, per connection, prepared on first use.
enum StatementId : std::size_t {
  kGet,
  kLive,
  kUpsert,
  kRemove,
  kInsertAbsent,
  kReplaceEqual,
  kRemoveEqual,
  kListBounded,
  kListUnbounded,
  kSweep,
  kStatementCount
};

const std::string& sql_for(const detail::Sql& sql, StatementId id) {
  switch (id) {
    case kGet:
      return sql.get;
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
    case kSweep:
      return sql.sweep;
    case kStatementCount:
      break;
  }
  return sql.get;
}

// A connection used by one thread at a time, with its statements.
struct Connection {
  Connection(const std::string& path, int flags, int busy_ms) : db(path, flags, busy_ms) {}

  SQLite::Statement& statement(const detail::Sql& sql, StatementId id) {
    std::optional<SQLite::Statement>& slot = statements[id];
    if (!slot) slot.emplace(db, sql_for(sql, id));
    return *slot;
  }

  // SQLiteCpp binds text without copying only from a std::string; this buffer
  // holds the JSON text of the current write so no allocation happens per call.
  const std::string& text(std::size_t slot, std::string_view json) {
    scratch[slot].assign(json);
    return scratch[slot];
  }
  void trim_scratch() {
    // A 25 MiB value should not pin 25 MiB per pooled connection.
    for (std::string& s : scratch) {
      if (s.capacity() > (1u << 20)) std::string().swap(s);
    }
  }

  SQLite::Database db;
  std::array<std::optional<SQLite::Statement>, kStatementCount> statements;
  std::array<std::string, 2> scratch;
};

// Resets a statement when a call is done with it, also on an exception, so it
// releases its read snapshot and is ready for the next call.
class Reset {
 public:
  explicit Reset(SQLite::Statement& statement) : statement_(statement) {}
  ~Reset() { statement_.tryReset(); }
  Reset(const Reset&) = delete;
  Reset& operator=(const Reset&) = delete;

 private:
  SQLite::Statement& statement_;
};

void bind_key(SQLite::Statement& s, int index, const std::string& key) {
  s.bindNoCopy(index, key.data(), static_cast<int>(key.size()));
}

void bind_expiry(SQLite::Statement& s, int index, std::optional<std::chrono::milliseconds> ttl,
                 std::int64_t now) {
  if (ttl) {
    s.bind(index, later_ms(now, *ttl));
  } else {
    s.bind(index);
  }
}

// Writers of one file in this process take turns on one mutex, so they queue
// without sleeping in SQLite's busy handler; the busy timeout is then only
// spent waiting for other processes. Keyed by the file's canonical path.
std::shared_ptr<std::mutex> writer_mutex_for(const std::string& canonical_path) {
  static std::mutex registry_mutex;
  static auto* registry = new std::map<std::string, std::weak_ptr<std::mutex>>;
  std::lock_guard lock(registry_mutex);
  for (auto it = registry->begin(); it != registry->end();) {
    it = it->second.expired() ? registry->erase(it) : std::next(it);
  }
  std::weak_ptr<std::mutex>& slot = (*registry)[canonical_path];
  std::shared_ptr<std::mutex> mutex = slot.lock();
  if (!mutex) {
    mutex = std::make_shared<std::mutex>();
    slot = mutex;
  }
  return mutex;
}

class SqliteStore final : public Driver {
 public:
  SqliteStore(const Options& options, bool memory)
      : Driver(kDriver, Capabilities{.persistent = !memory, .shared = !memory}),
        options_(options),
        memory_(memory),
        where_(memory ? std::string("in-memory database") : "'" + options.path + "'"),
        sql_(options.table),
        max_connections_(memory ? 1 : options.pool_size) {}

  // Opens the database and its schema on first use: the store connects
  // lazily, like every driver. A failure is reported to that call, and the
  // next call tries again.
  void ensure_started() {
    if (started_.load(std::memory_order_acquire)) return;
    std::lock_guard start_lock(start_mutex_);
    if (started_.load(std::memory_order_relaxed)) return;
    std::unique_ptr<Connection> first = connect();
    create_schema(*first);
    if (!memory_) {
      std::error_code ec;
      fs::path canonical = fs::canonical(options_.path, ec);
      writer_ = writer_mutex_for(ec ? fs::absolute(options_.path).string() : canonical.string());
    }
    {
      std::lock_guard lock(pool_mutex_);
      idle_.push_back(std::move(first));
      total_ = 1;
    }
    started_.store(true, std::memory_order_release);
  }

 protected:
  std::optional<std::string> do_get(const std::string& key) override {
    Lease c = acquire();
    return guarded("reading", [&]() -> std::optional<std::string> {
      SQLite::Statement& s = c->statement(sql_, kGet);
      Reset reset(s);
      bind_key(s, 1, key);
      s.bind(2, now_ms());
      if (!s.executeStep()) return std::nullopt;
      SQLite::Column v = s.getColumn(0);
      const char* text = v.getText();
      return std::string(text, static_cast<std::size_t>(v.getBytes()));
    });
  }

  void do_set(const std::string& key, std::string_view json, Ttl ttl) override {
    Lease c = acquire();
    guarded("writing", [&] {
      WriteLock lock(writer_.get());
      const std::int64_t now = now_ms();
      SQLite::Statement& s = c->statement(sql_, kUpsert);
      Reset reset(s);
      bind_key(s, 1, key);
      s.bindNoCopy(2, c->text(0, json));
      bind_expiry(s, 3, ttl, now);
      s.exec();
      after_write(*c, now);
    });
  }

  void do_remove(const std::string& key) override {
    Lease c = acquire();
    guarded("removing from", [&] {
      WriteLock lock(writer_.get());
      SQLite::Statement& s = c->statement(sql_, kRemove);
      Reset reset(s);
      bind_key(s, 1, key);
      s.exec();
    });
  }

  bool do_swap(const std::string& key, std::optional<std::string_view> expected,
               std::optional<std::string_view> desired, Ttl ttl) override {
    Lease c = acquire();
    return guarded("swapping in", [&]() -> bool {
      if (!expected && !desired) {
        // "Remove if absent" changes nothing: it succeeds exactly when no live
        // row exists, which one read decides atomically.
        SQLite::Statement& s = c->statement(sql_, kLive);
        Reset reset(s);
        bind_key(s, 1, key);
        s.bind(2, now_ms());
        return !s.executeStep();
      }
      // Each case is one statement, and SQLite runs write statements one at a
      // time per file, across threads and processes: compare and write cannot
      // be separated by another writer.
      WriteLock lock(writer_.get());
      const std::int64_t now = now_ms();  // after the wait: expiry is judged at the write
      int changed = 0;
      if (!expected) {
        SQLite::Statement& s = c->statement(sql_, kInsertAbsent);
        Reset reset(s);
        bind_key(s, 1, key);
        s.bindNoCopy(2, c->text(0, *desired));
        bind_expiry(s, 3, ttl, now);
        s.bind(4, now);
        changed = s.exec();
      } else if (desired) {
        SQLite::Statement& s = c->statement(sql_, kReplaceEqual);
        Reset reset(s);
        bind_key(s, 1, key);
        s.bindNoCopy(2, c->text(0, *desired));
        bind_expiry(s, 3, ttl, now);
        s.bindNoCopy(4, c->text(1, *expected));
        s.bind(5, now);
        changed = s.exec();
      } else {
        SQLite::Statement& s = c->statement(sql_, kRemoveEqual);
        Reset reset(s);
        bind_key(s, 1, key);
        s.bindNoCopy(2, c->text(1, *expected));
        s.bind(3, now);
        changed = s.exec();
      }
      if (changed > 0 && desired) after_write(*c, now);
      return changed > 0;
    });
  }

  std::vector<StoredEntry> do_list(const KeyRange& range, std::size_t limit) override {
    Lease c = acquire();
    return guarded("listing", [&] {
      std::vector<StoredEntry> page;
      SQLite::Statement& s = c->statement(sql_, range.end ? kListBounded : kListUnbounded);
      Reset reset(s);
      bind_key(s, 1, range.begin);
      if (range.end) bind_key(s, 2, *range.end);
      s.bind(3, now_ms());
      s.bind(4, static_cast<std::int64_t>(limit));
      page.reserve(std::min<std::size_t>(limit, 256));
      while (s.executeStep()) {
        SQLite::Column k = s.getColumn(0);
        const char* key = static_cast<const char*>(k.getBlob());
        std::string key_text(key, static_cast<std::size_t>(k.getBytes()));
        SQLite::Column v = s.getColumn(1);
        const char* json = v.getText();
        page.push_back(
            {std::move(key_text), std::string(json, static_cast<std::size_t>(v.getBytes()))});
      }
      return page;
    });
  }

 private:
  // Returns a borrowed connection to the pool when the call ends.
  class Lease {
   public:
    Lease(SqliteStore& store, std::unique_ptr<Connection> connection)
        : store_(store), connection_(std::move(connection)) {}
    ~Lease() { store_.release(std::move(connection_)); }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Connection* operator->() const { return connection_.get(); }
    Connection& operator*() const { return *connection_; }

   private:
    SqliteStore& store_;
    std::unique_ptr<Connection> connection_;
  };

  class WriteLock {
   public:
    explicit WriteLock(std::mutex* mutex) : mutex_(mutex) {
      if (mutex_) mutex_->lock();
    }
    ~WriteLock() {
      if (mutex_) mutex_->unlock();
    }
    WriteLock(const WriteLock&) = delete;
    WriteLock& operator=(const WriteLock&) = delete;

   private:
    std::mutex* mutex_;
  };

  // Runs `f` (which must be safe to repeat: each body is one statement or
  // one transaction) and translates SQLite errors. SQLite reports SQLITE_BUSY
  // without calling its busy handler in a few places, notably while another
  // process switches a new file to WAL or recovers its WAL index; such a
  // failure is retried until busy_timeout has passed, so lock contention
  // only ever surfaces as ErrorCode::timeout after that long.
  template <class F>
  auto guarded(const char* doing, F&& f) -> decltype(f()) {
    const auto start = std::chrono::steady_clock::now();
    for (int attempt = 0;; ++attempt) {
      try {
        return f();
      } catch (const SQLite::Exception& e) {
        const int primary = e.getErrorCode() & 0xff;
        const bool busy = primary == SQLITE_BUSY || primary == SQLITE_LOCKED;
        if (!busy || std::chrono::steady_clock::now() - start >= options_.busy_timeout) {
          raise(e, doing, where_, options_.busy_timeout);
        }
      }
      std::this_thread::sleep_for(
          std::chrono::milliseconds(std::min(1 << std::min(attempt, 4), 10)));
    }
  }

  // Connections are handed to waiting callers first come, first served: with
  // one connection (an in-memory database) a caller that releases and
  // immediately asks again must not starve the others. A caller waits at
  // most pool_timeout, like the server drivers' callers, so a pool held busy
  // (long writes waiting on another process's lock) gives a timeout, not a
  // hang.
  Lease acquire() {
    ensure_started();
    std::unique_lock lock(pool_mutex_);
    if (waiters_.empty() && !idle_.empty()) {
      std::unique_ptr<Connection> c = std::move(idle_.back());
      idle_.pop_back();
      return Lease(*this, std::move(c));
    }
    if (total_ < max_connections_) {
      ++total_;
      lock.unlock();
      return Lease(*this, connect_counted());
    }
    Waiter waiter;
    waiters_.push_back(&waiter);
    if (!waiter.ready.wait_until(lock, deadline_after(options_.pool_timeout),
                                 [&] { return waiter.connection || waiter.may_connect; })) {
      // Nothing was handed to this waiter (the predicate is checked under
      // the lock), so leaving the queue loses no connection.
      waiters_.erase(std::find(waiters_.begin(), waiters_.end(), &waiter));
      throw Error(ErrorCode::timeout,
                  "no pooled connection to " + where_ +
                      " became free within pool_timeout=" + format_duration(options_.pool_timeout) +
                      " (pool_size=" + std::to_string(max_connections_) + ", all busy)",
                  kDriver, true);
    }
    if (waiter.connection) return Lease(*this, std::move(waiter.connection));
    lock.unlock();
    return Lease(*this, connect_counted());
  }

  // connect() for a slot already counted in total_; gives the slot up (to the
  // next waiter, or back to the pool) if connecting fails.
  std::unique_ptr<Connection> connect_counted() {
    try {
      return connect();
    } catch (...) {
      std::lock_guard lock(pool_mutex_);
      if (waiters_.empty()) {
        --total_;
      } else {
        Waiter* next = waiters_.front();
        waiters_.pop_front();
        next->may_connect = true;
        next->ready.notify_one();
      }
      throw;
    }
  }

  void release(std::unique_ptr<Connection> connection) {
    if (!connection) return;
    connection->trim_scratch();
    std::lock_guard lock(pool_mutex_);
    if (waiters_.empty()) {
      idle_.push_back(std::move(connection));
      return;
    }
    Waiter* next = waiters_.front();
    waiters_.pop_front();
    next->connection = std::move(connection);
    next->ready.notify_one();
  }

  std::unique_ptr<Connection> connect() {
    const int flags = SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE | SQLite::OPEN_NOMUTEX;
    std::unique_ptr<Connection> c;
    try {
      c = std::make_unique<Connection>(memory_ ? std::string(kMemoryPath) : options_.path, flags,
                                       static_cast<int>(options_.busy_timeout.count()));
    } catch (const SQLite::Exception& e) {
      explain_open_failure(e);
    }
    sqlite3* handle = c->db.getHandle();
    sqlite3_extended_result_codes(handle, 1);
    if (memory_) return c;
    // SQLite silently falls back to read-only for a file it may not write;
    // every write would then fail, so say so now.
    if (sqlite3_db_readonly(handle, "main") == 1) {
      throw Error(ErrorCode::permission_denied,
                  "cannot open " + where_ + " for writing: the file is read-only", kDriver, false);
    }
    guarded("configuring", [&] {
      const std::string mode = options_.journal_mode.value_or("wal");
      std::string actual = c->db.execAndGet("PRAGMA journal_mode = " + mode).getString();
      for (char& ch : actual) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      if (actual != mode) {
        throw Error(ErrorCode::unsupported,
                    "journal_mode=" + mode + " is not available for " + where_ + " (it stays " +
                        actual + ")",
                    kDriver, false);
      }
      // NORMAL is durable against crashes in WAL mode (a power loss may undo
      // the last commits but never corrupts); FULL is the safe choice otherwise.
      const std::string sync = options_.synchronous.value_or(mode == "wal" ? "normal" : "full");
      c->db.exec("PRAGMA synchronous = " + sync);
      c->db.exec("PRAGMA mmap_size = " + std::to_string(options_.mmap_size));
    });
    return c;
  }

  [[noreturn]] void explain_open_failure(const SQLite::Exception& e) {
    const fs::path path(options_.path);
    fs::path dir = path.parent_path();
    if (dir.empty()) dir = ".";
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) {
      throw Error(ErrorCode::unavailable,
                  "cannot open " + where_ + ": the directory '" + dir.string() + "' does not exist",
                  kDriver, false);
    }
    if (fs::is_directory(path, ec)) {
      throw Error(ErrorCode::invalid_argument, "cannot open " + where_ + ": it is a directory",
                  kDriver, false);
    }
    const bool exists = fs::exists(path, ec);
    if ((exists && ::access(path.c_str(), R_OK | W_OK) != 0) ||
        (!exists && ::access(dir.c_str(), W_OK | X_OK) != 0)) {
      throw Error(ErrorCode::permission_denied,
                  "cannot open " + where_ + ": permission denied" +
                      (exists ? "" : " to create it in '" + dir.string() + "'"),
                  kDriver, false);
    }
    raise(e, "opening", where_, options_.busy_timeout);
  }

  // Creates the table and its index once, in one write transaction, so
  // processes opening a new file at the same moment serialize on SQLite's
  // lock and the later ones find everything in place. Opening an existing
  // store only reads.
  void create_schema(Connection& c) {
    guarded("creating the schema in", [&] {
      if (!c.db.tableExists(options_.table)) {
        SQLite::Transaction transaction(c.db, SQLite::TransactionBehavior::IMMEDIATE);
        c.db.exec(sql_.create_table);
        c.db.exec(sql_.create_index);
        transaction.commit();
      }
      SQLite::Statement columns(c.db, sql_.table_columns);
      columns.bind(1, options_.table);
      std::string names;
      while (columns.executeStep()) {
        names += (names.empty() ? "" : ",") + columns.getColumn(0).getString();
      }
      if (names != "k,v,expires_at") {
        throw Error(ErrorCode::invalid_argument,
                    "table '" + options_.table + "' in " + where_ +
                        " is not a kvstore table (its columns are " + names +
                        "); choose another with ?table=",
                    kDriver, false);
      }
    });
  }

  // Deletes a bounded batch of expired rows, at most once per sweep_interval
  // (and again on the next write while a full batch was found). The index on
  // expires_at makes this proportional to the rows deleted. Runs with the
  // writer lock held, after the caller's write succeeded; its failure is not
  // the caller's, so it is dropped and retried later.
  void after_write(Connection& c, std::int64_t now) {
    if (options_.sweep_interval.count() <= 0) return;
    std::int64_t due = next_sweep_.load(std::memory_order_relaxed);
    if (now < due) return;
    if (!next_sweep_.compare_exchange_strong(due, later_ms(now, options_.sweep_interval))) return;
    try {
      SQLite::Statement& s = c.statement(sql_, kSweep);
      Reset reset(s);
      s.bind(1, now);
      s.bind(2, static_cast<std::int64_t>(options_.sweep_batch));
      if (static_cast<std::size_t>(s.exec()) >= options_.sweep_batch) {
        next_sweep_.store(now, std::memory_order_relaxed);
      }
    } catch (const SQLite::Exception&) {
      next_sweep_.store(now, std::memory_order_relaxed);
    }
  }

  const Options options_;
  const bool memory_;
  const std::string where_;
  const detail::Sql sql_;
  const std::size_t max_connections_;
  std::mutex start_mutex_;
  std::atomic<bool> started_{false};
  std::shared_ptr<std::mutex>
      writer_;  // null for an in-memory database (one connection); set once, before started_
  std::atomic<std::int64_t> next_sweep_{0};

  struct Waiter {
    std::condition_variable ready;
    std::unique_ptr<Connection> connection;  // handed over by release()
    bool may_connect = false;                // a failed connect() left its slot free
  };

  std::mutex pool_mutex_;
  std::vector<std::unique_ptr<Connection>> idle_;
  std::deque<Waiter*> waiters_;
  std::size_t total_ = 0;  // connections open or being opened
};

const char* const kJournalModes[] = {"wal", "delete", "truncate", "persist"};
const char* const kSyncLevels[] = {"off", "normal", "full", "extra"};

template <std::size_t N>
std::string checked_choice(const std::string& name, std::string value,
                           const char* const (&allowed)[N]) {
  for (char& c : value) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string list;
  for (const char* a : allowed) {
    if (value == a) return value;
    list += (list.empty() ? "" : ", ") + std::string(a);
  }
  throw Error(ErrorCode::invalid_argument, name + "='" + value + "' is not one of " + list, kDriver,
              false);
}

void take_params(Url& url, Options& options);

void check_range(const char* name, milliseconds value, DurationRange range) {
  if (value < range.min || value > range.max) {
    throw Error(ErrorCode::invalid_argument,
                std::string(name) + " must be from " + format_duration(range.min) + " to " +
                    format_duration(range.max) + " (got " + std::to_string(value.count()) + "ms)",
                kDriver, false);
  }
}

}  // namespace

namespace {
std::unique_ptr<SqliteStore> make_driver(const Options& given) {
  Options options = given;
  const bool memory = options.path == kMemoryPath;
  if (options.path.empty()) {
    throw Error(ErrorCode::invalid_argument,
                "a sqlite URL needs a file path (sqlite:data/kv.db, sqlite:/abs/kv.db) or "
                "\":memory:\" (sqlite::memory:)",
                kDriver, false);
  }
  // SQLite takes C strings: it would open the name cut at the NUL (creating
  // that file) and report errors about it. The path is not echoed, since it
  // cannot be printed faithfully.
  if (options.path.find('\0') != std::string::npos) {
    throw Error(ErrorCode::invalid_argument, "the database path contains NUL (a %00 in the URL)",
                kDriver, false);
  }
  if (!detail::valid_table_name(options.table)) {
    throw Error(ErrorCode::invalid_argument,
                "table='" + options.table +
                    "' is not a valid table name: use letters, digits and '_', start with a "
                    "letter or '_', at most 64 bytes, not starting with 'sqlite_'",
                kDriver, false);
  }
  if (memory && (options.journal_mode || options.synchronous || options.mmap_size != 0)) {
    throw Error(ErrorCode::invalid_argument,
                "journal_mode, synchronous and mmap_size apply to database files, not to :memory:",
                kDriver, false);
  }
  if (options.journal_mode) {
    options.journal_mode = checked_choice("journal_mode", *options.journal_mode, kJournalModes);
  }
  if (options.synchronous) {
    options.synchronous = checked_choice("synchronous", *options.synchronous, kSyncLevels);
  }
  if (options.pool_size == 0 || options.sweep_batch == 0) {
    throw Error(ErrorCode::invalid_argument, "pool_size and sweep_batch must be at least 1",
                kDriver, false);
  }
  check_range("busy_timeout", options.busy_timeout, kBusyTimeoutRange);
  check_range("pool_timeout", options.pool_timeout, kPoolTimeoutRange);
  check_range("sweep_interval", options.sweep_interval, kSweepIntervalRange);
  return std::make_unique<SqliteStore>(options, memory);
}
}  // namespace

std::unique_ptr<KvStore> create(const Options& options) {
  return std::make_unique<KvStore>(make_driver(options));
}

std::unique_ptr<Driver> open(Url& url) {
  if (!url.host().empty() || url.port() || !url.user().empty() || url.password()) {
    throw Error(ErrorCode::invalid_argument,
                "sqlite URLs take no host: write sqlite:relative/path.db, sqlite:/absolute/path.db "
                "or sqlite::memory: (in " +
                    url.redacted() + ")",
                kDriver, false);
  }
  Options options;
  options.path = url.path();
  try {
    take_params(url, options);
  } catch (const Error& e) {
    // Url names no driver; these are this driver's parameters.
    if (!e.driver().empty()) throw;
    throw Error(e.code(), e.message(), kDriver, false);
  }
  return make_driver(options);
}

namespace {

void take_params(Url& url, Options& options) {
  if (auto table = url.take("table")) options.table = *table;
  if (auto timeout =
          url.take_duration("busy_timeout", kBusyTimeoutRange.min, kBusyTimeoutRange.max)) {
    options.busy_timeout = *timeout;
  }
  options.journal_mode = url.take("journal_mode");
  options.synchronous = url.take("synchronous");
  if (auto pool = url.take_int("pool_size", 1, 1024)) {
    options.pool_size = static_cast<std::size_t>(*pool);
  }
  if (auto mmap = url.take_size("mmap_size")) options.mmap_size = *mmap;
  if (auto timeout =
          url.take_duration("pool_timeout", kPoolTimeoutRange.min, kPoolTimeoutRange.max)) {
    options.pool_timeout = *timeout;
  }
  if (auto interval =
          url.take_duration("sweep_interval", kSweepIntervalRange.min, kSweepIntervalRange.max)) {
    options.sweep_interval = *interval;
  }
  if (auto batch = url.take_int("sweep_batch", 1, 1000000)) {
    options.sweep_batch = static_cast<std::size_t>(*batch);
  }
  url.reject_unknown_params(kDriver);
}

}  // namespace

}  // namespace kvstore::sqlite
