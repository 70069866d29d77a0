// The SQLite driver: a kvstore::Driver over the kit's pool, retry runner and
// sweep throttle. Its own parts are the SQL (sql.cpp), the error table
// (sqlite_errors.cpp), the connection's deadlines (sqlite_connection.cpp)
// and the URL parameters (sqlite_options.cpp).
#include <kvstore/sqlite.h>

#include <sqlite3.h>

#include <unistd.h>
#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include <SQLiteCpp/SQLiteCpp.h>
#include <kvstore/deadline.h>
#include <kvstore/driver.h>

#include "sql.h"
#include "sqlite_connection.h"
#include "sqlite_errors.h"
#include "sqlite_options.h"

namespace kvstore::sqlite {

namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using SteadyClock = std::chrono::steady_clock;
using namespace detail;  // Connection, SqliteError, the statement ids, ...

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// `now` (epoch ms) plus `duration`, clamped rather than overflowing.
std::int64_t later_ms(std::int64_t now, milliseconds duration) {
  using TimePoint = std::chrono::time_point<std::chrono::system_clock, milliseconds>;
  return saturating_add(TimePoint(milliseconds(now)), duration).time_since_epoch().count();
}

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

// Binds what every write stores besides key and value: ?3 the expiry in
// epoch milliseconds (a TTL counts from `now`, the local clock being this
// backend's; an absolute time is kept as given) or NULL, and ?4 the metadata
// text or NULL (none). The metadata is bound without a copy: `options`
// outlives the statement's execution.
void bind_options(SQLite::Statement& s, const StoredOptions& options, std::int64_t now) {
  if (options.ttl) {
    s.bind(3, later_ms(now, *options.ttl));
  } else if (options.expires_at) {
    s.bind(3, static_cast<std::int64_t>(
                  std::chrono::duration_cast<milliseconds>(options.expires_at->time_since_epoch())
                      .count()));
  } else {
    s.bind(3);
  }
  if (options.metadata) {
    s.bindNoCopy(4, *options.metadata);
  } else {
    s.bind(4);
  }
}

std::string text_of(const SQLite::Column& column) {
  return std::string(column.getText(), static_cast<std::size_t>(column.getBytes()));
}

std::string key_of(const SQLite::Column& column) {
  return std::string(static_cast<const char*>(column.getBlob()),
                     static_cast<std::size_t>(column.getBytes()));
}

// Fills an entry's metadata and expiry from columns `metadata` and
// `metadata + 1` of the current row (NULL: none, never expires).
void read_options(SQLite::Statement& s, int metadata, StoredEntry& entry) {
  SQLite::Column m = s.getColumn(metadata);
  if (!m.isNull()) entry.metadata = text_of(m);
  SQLite::Column e = s.getColumn(metadata + 1);
  if (!e.isNull()) entry.expires_at = Clock::time_point(milliseconds(e.getInt64()));
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

// SQLite reports a lock it found without waiting (a file being switched to
// WAL) as SQLITE_BUSY at once; such a call is repeated, with short pauses,
// until its deadline rather than a fixed number of times.
const RetryPolicy kRetryPolicy{.max_attempts = 1000, .backoff = milliseconds(1)};

PoolOptions pool_options(const Options& options, bool memory) {
  PoolOptions pool;
  // An in-memory database lives in its one connection: it is never closed
  // while the store exists.
  pool.size = memory ? 1 : options.pool_size;
  pool.wait_timeout = options.pool_timeout;
  if (memory) pool.idle_timeout = std::chrono::hours(24 * 365 * 100);
  return pool;
}

class SqliteStore final : public Driver {
 public:
  explicit SqliteStore(Options options)
      : Driver(kDriver, Capabilities{.persistent = options.path != kMemoryPath,
                                     .shared = options.path != kMemoryPath,
                                     .pooled = true}),
        options_(std::move(options)),
        memory_(options_.path == kMemoryPath),
        where_(memory_ ? std::string("in-memory database") : "'" + options_.path + "'"),
        sql_(options_.table),
        errors_{.file_backed = !memory_, .busy_timeout = options_.busy_timeout},
        classifier_([this](const std::exception& e) { return detail::classify(e, errors_); }),
        pool_(pool_options(options_, memory_), [this] { return connect(); }),
        sweeper_(options_.sweep_interval) {}

  std::optional<std::string> do_get(const std::string& key) override {
    return call(Idempotence::idempotent, "reading",
                [&](Connection& c) -> std::optional<std::string> {
                  SQLite::Statement& s = c.statement(sql_, kGet);
                  Reset reset(s);
                  bind_key(s, 1, key);
                  s.bind(2, now_ms());
                  if (!s.executeStep()) return std::nullopt;
                  SQLite::Column v = s.getColumn(0);
                  return std::string(v.getText(), static_cast<std::size_t>(v.getBytes()));
                });
  }

  void do_set(const std::string& key, std::string_view json,
              const StoredOptions& options) override {
    call(Idempotence::idempotent, "writing", [&](Connection& c) {
      WriteLock lock(writer_.get());
      const std::int64_t now = now_ms();
      SQLite::Statement& s = c.statement(sql_, kUpsert);
      Reset reset(s);
      bind_key(s, 1, key);
      s.bindNoCopy(2, c.text(0, json));
      bind_options(s, options, now);
      s.exec();
      after_write(c, now);
    });
  }

  void do_remove(const std::string& key) override {
    call(Idempotence::idempotent, "removing from", [&](Connection& c) {
      WriteLock lock(writer_.get());
      SQLite::Statement& s = c.statement(sql_, kRemove);
      Reset reset(s);
      bind_key(s, 1, key);
      s.exec();
    });
  }

  bool do_swap(const std::string& key, std::optional<std::string_view> expected,
               std::optional<std::string_view> desired, const StoredOptions& options) override {
    return call(Idempotence::not_idempotent, "swapping in", [&](Connection& c) -> bool {
      if (!expected && !desired) {
        // "Remove if absent" changes nothing: it succeeds exactly when no live
        // row exists, which one read decides atomically.
        SQLite::Statement& s = c.statement(sql_, kLive);
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
        SQLite::Statement& s = c.statement(sql_, kInsertAbsent);
        Reset reset(s);
        bind_key(s, 1, key);
        s.bindNoCopy(2, c.text(0, *desired));
        bind_options(s, options, now);
        s.bind(5, now);
        changed = s.exec();
      } else if (desired) {
        SQLite::Statement& s = c.statement(sql_, kReplaceEqual);
        Reset reset(s);
        bind_key(s, 1, key);
        s.bindNoCopy(2, c.text(0, *desired));
        bind_options(s, options, now);
        s.bindNoCopy(5, c.text(1, *expected));
        s.bind(6, now);
        changed = s.exec();
      } else {
        SQLite::Statement& s = c.statement(sql_, kRemoveEqual);
        Reset reset(s);
        bind_key(s, 1, key);
        s.bindNoCopy(2, c.text(1, *expected));
        s.bind(3, now);
        changed = s.exec();
      }
      if (changed > 0 && desired) after_write(c, now);
      return changed > 0;
    });
  }

  std::vector<StoredEntry> do_list(const KeyRange& range, std::size_t limit) override {
    return list(range, limit, /*with_values=*/true);
  }

  // Reads the covering index <table>_keys alone (Sql::list_keys_*): the
  // cost of a page is per key, whatever the size of the values.
  std::vector<StoredEntry> do_list_keys(const KeyRange& range, std::size_t limit) override {
    return list(range, limit, /*with_values=*/false);
  }

  std::optional<StoredEntry> do_get_entry(const std::string& key) override {
    return call(Idempotence::idempotent, "reading",
                [&](Connection& c) -> std::optional<StoredEntry> {
                  SQLite::Statement& s = c.statement(sql_, kGetEntry);
                  Reset reset(s);
                  bind_key(s, 1, key);
                  s.bind(2, now_ms());
                  if (!s.executeStep()) return std::nullopt;
                  StoredEntry entry{key, text_of(s.getColumn(0))};
                  read_options(s, 1, entry);
                  return entry;
                });
  }

  // Batches of up to kGetManyMaxKeys keys, one statement each. Several
  // batches share one read transaction, so the answer is one snapshot.
  std::vector<std::optional<std::string>> do_get_many(
      const std::vector<std::string>& keys) override {
    std::unordered_map<std::string_view, std::size_t> slot;  // rows come in index order
    slot.reserve(keys.size());
    for (std::size_t i = 0; i < keys.size(); ++i) slot.emplace(keys[i], i);
    return call(Idempotence::idempotent, "reading", [&](Connection& c) {
      std::vector<std::optional<std::string>> texts(keys.size());
      std::optional<SQLite::Transaction> snapshot;
      if (keys.size() > kGetManyMaxKeys) {
        snapshot.emplace(c.db, SQLite::TransactionBehavior::DEFERRED);
      }
      const std::int64_t now = now_ms();
      for (std::size_t first = 0; first < keys.size(); first += kGetManyMaxKeys) {
        const std::size_t n = std::min(kGetManyMaxKeys, keys.size() - first);
        const std::size_t bucket = get_many_bucket(n);
        SQLite::Statement& s = c.get_many_statement(sql_, bucket);
        Reset reset(s);
        s.bind(1, now);
        for (std::size_t i = 0; i < (std::size_t{1} << bucket); ++i) {
          const int index = static_cast<int>(i) + 2;
          if (i < n) {
            bind_key(s, index, keys[first + i]);
          } else {
            s.bind(index);  // NULL: the statement's spare slots match nothing
          }
        }
        while (s.executeStep()) {
          SQLite::Column k = s.getColumn(0);
          auto at = slot.find(std::string_view(static_cast<const char*>(k.getBlob()),
                                               static_cast<std::size_t>(k.getBytes())));
          if (at == slot.end()) continue;
          texts[at->second] = text_of(s.getColumn(1));
        }
      }
      if (snapshot) snapshot->commit();
      return texts;
    });
  }

  // One transaction: the batch is atomic and pays one commit (the WAL
  // write, and its sync where synchronous=full) instead of N. The sweep
  // runs once, as after a single set.
  void do_set_many(const std::vector<StoredWrite>& writes) override {
    call(Idempotence::idempotent, "writing", [&](Connection& c) {
      WriteLock lock(writer_.get());
      const std::int64_t now = now_ms();
      SQLite::Transaction transaction(c.db, SQLite::TransactionBehavior::IMMEDIATE);
      SQLite::Statement& s = c.statement(sql_, kUpsert);
      for (const StoredWrite& write : writes) {
        Reset reset(s);
        bind_key(s, 1, write.key);
        s.bindNoCopy(2, write.json);  // lives as long as the call
        bind_options(s, write.options, now);
        s.exec();
      }
      transaction.commit();
      after_write(c, now);
    });
  }

  // One transaction, as set_many.
  void do_remove_many(const std::vector<std::string>& keys) override {
    call(Idempotence::idempotent, "removing from", [&](Connection& c) {
      WriteLock lock(writer_.get());
      SQLite::Transaction transaction(c.db, SQLite::TransactionBehavior::IMMEDIATE);
      SQLite::Statement& s = c.statement(sql_, kRemove);
      for (const std::string& key : keys) {
        Reset reset(s);
        bind_key(s, 1, key);
        s.exec();
      }
      transaction.commit();
    });
  }

 private:
  // One page of a listing: rows k, v, metadata, expires_at, or without v.
  std::vector<StoredEntry> list(const KeyRange& range, std::size_t limit, bool with_values) {
    const StatementId id = with_values ? (range.end ? kListBounded : kListUnbounded)
                                       : (range.end ? kListKeysBounded : kListKeysUnbounded);
    return call(Idempotence::idempotent, "listing", [&](Connection& c) {
      std::vector<StoredEntry> page;
      SQLite::Statement& s = c.statement(sql_, id);
      Reset reset(s);
      bind_key(s, 1, range.begin);
      if (range.end) bind_key(s, 2, *range.end);
      s.bind(3, now_ms());
      s.bind(4, static_cast<std::int64_t>(limit));
      page.reserve(std::min<std::size_t>(limit, 256));
      const int metadata = with_values ? 2 : 1;
      while (s.executeStep()) {
        StoredEntry& entry = page.emplace_back();
        entry.key = key_of(s.getColumn(0));
        if (with_values) entry.json = text_of(s.getColumn(1));
        read_options(s, metadata, entry);
      }
      return page;
    });
  }

  // Runs `body` on a pooled connection through the kit's retry rule.
  // pool_timeout bounds the wait for a connection; command_timeout the whole
  // call; busy_timeout (at most command_timeout) the waits for other
  // connections' locks. SQLite failures leave the body as SqliteError, which
  // carries what the classifier needs to know about the lock wait.
  template <class Body>
  auto call(Idempotence idempotence, const char* doing, Body&& body)
      -> std::invoke_result_t<Body&, Connection&> {
    const SteadyClock::time_point start = SteadyClock::now();
    const CallDeadlines deadlines{.command = saturating_add(start, options_.command_timeout),
                                  .lock = std::min(saturating_add(start, options_.command_timeout),
                                                   saturating_add(start, options_.busy_timeout))};
    const SteadyClock::time_point retry_until =
        std::min(deadlines.command, saturating_add(start, options_.pool_timeout));
    return run_with_retry(
        pool_, classifier_, idempotence, retry_until,
        [&](Connection& c) {
          struct Trim {
            Connection& c;
            ~Trim() { c.trim_scratch(); }
          } trim{c};
          prepare(c, deadlines);
          try {
            return body(c);
          } catch (const SQLite::Exception& e) {
            throw SqliteError(e.getErrorCode(), std::string(doing) + " " + where_ + ": " + e.what(),
                              c.lock_wait_spent());
          }
        },
        kRetryPolicy);
  }

  // Opens a connection for the pool. Failures are explained as Errors here:
  // the pool's connect runs outside the retry runner's classifier.
  std::unique_ptr<Connection> connect() {
    const int flags = SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE | SQLite::OPEN_NOMUTEX;
    std::unique_ptr<Connection> c;
    try {
      c = std::make_unique<Connection>(memory_ ? std::string(kMemoryPath) : options_.path, flags);
    } catch (const SQLite::Exception& e) {
      explain_open_failure(e);
    }
    if (memory_) {
      c->configured = true;
      return c;
    }
    // SQLite silently falls back to read-only for a file it may not write;
    // every write would then fail, so say so now.
    if (sqlite3_db_readonly(c->db.getHandle(), "main") == 1) {
      throw Error(ErrorCode::permission_denied,
                  "cannot open " + where_ + " for writing: the file is read-only", kDriver, false,
                  detail::native_code(SQLITE_READONLY));
    }
    return c;
  }

  [[noreturn]] void explain_open_failure(const SQLite::Exception& e) {
    const std::string native = detail::native_code(e.getErrorCode());
    const fs::path path(options_.path);
    fs::path dir = path.parent_path();
    if (dir.empty()) dir = ".";
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) {
      throw Error(ErrorCode::unavailable,
                  "cannot open " + where_ + ": the directory '" + dir.string() + "' does not exist",
                  kDriver, false, native);
    }
    if (fs::is_directory(path, ec)) {
      throw Error(ErrorCode::invalid_argument, "cannot open " + where_ + ": it is a directory",
                  kDriver, false, native);
    }
    const bool exists = fs::exists(path, ec);
    if ((exists && ::access(path.c_str(), R_OK | W_OK) != 0) ||
        (!exists && ::access(dir.c_str(), W_OK | X_OK) != 0)) {
      throw Error(ErrorCode::permission_denied,
                  "cannot open " + where_ + ": permission denied" +
                      (exists ? "" : " to create it in '" + dir.string() + "'"),
                  kDriver, false, native);
    }
    throw to_error(
        detail::classify(SqliteError(e.getErrorCode(), "opening " + where_ + ": " + e.what()),
                         errors_),
        Idempotence::idempotent);
  }

  // Before a connection's first statement: its pragmas, and once per store
  // the schema. Lock waits here are also bounded by connect_timeout.
  void prepare(Connection& c, const CallDeadlines& deadlines) {
    if (c.configured && started_.load(std::memory_order_acquire)) {
      c.begin(deadlines);
      return;
    }
    const SteadyClock::time_point open_until = deadline_after(options_.connect_timeout);
    c.begin({std::min(deadlines.command, open_until), std::min(deadlines.lock, open_until)});
    try {
      if (!c.configured) {
        configure(c);
        c.configured = true;
      }
      if (!started_.load(std::memory_order_acquire)) {
        std::lock_guard lock(start_mutex_);
        if (!started_.load(std::memory_order_relaxed)) {
          create_schema(c);
          if (!memory_) {
            std::error_code ec;
            const fs::path canonical = fs::canonical(options_.path, ec);
            writer_ =
                writer_mutex_for(ec ? fs::absolute(options_.path).string() : canonical.string());
          }
          started_.store(true, std::memory_order_release);
        }
      }
    } catch (const SQLite::Exception& e) {
      throw SqliteError(e.getErrorCode(), "opening " + where_ + ": " + e.what(),
                        c.lock_wait_spent());
    }
    c.begin(deadlines);
  }

  void configure(Connection& c) {
    const std::string mode = options_.journal_mode.value_or("wal");
    std::string actual = c.db.execAndGet("PRAGMA journal_mode = " + mode).getString();
    for (char& ch : actual) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    if (actual != mode) {
      throw Error(
          ErrorCode::unsupported,
          "journal_mode=" + mode + " is not available for " + where_ + " (it stays " + actual + ")",
          kDriver, false);
    }
    // NORMAL is durable against crashes in WAL mode (a power loss may undo
    // the last commits but never corrupts); FULL is the safe choice otherwise.
    const std::string sync = options_.synchronous.value_or(mode == "wal" ? "normal" : "full");
    c.db.exec("PRAGMA synchronous = " + sync);
    c.db.exec("PRAGMA mmap_size = " + std::to_string(options_.mmap_size));
  }

  // Brings the table to kLayoutVersion once per store: creates it, or
  // upgrades a version 1 table in place (one added column, one index built;
  // no row rewritten), in one write transaction, so processes opening the
  // file at the same moment serialize on SQLite's lock and the later ones
  // find the work done. Opening a current store only reads.
  void create_schema(Connection& c) {
    std::optional<int> version = recorded_version(c);
    refuse_newer(version);
    if (version != kLayoutVersion || !c.db.tableExists(options_.table)) {
      SQLite::Transaction transaction(c.db, SQLite::TransactionBehavior::IMMEDIATE);
      version = recorded_version(c);  // as another process may have left it meanwhile
      refuse_newer(version);
      if (!c.db.tableExists(options_.table)) {
        c.db.exec(sql_.create_table);
        c.db.exec(sql_.create_index);
        c.db.exec(sql_.create_keys_index);
      } else if (version.value_or(1) < kLayoutVersion) {
        // No version row: the layout before versions were recorded (1).
        check_columns(c, "k,v,expires_at");
        c.db.exec(sql_.add_metadata);
        c.db.exec(sql_.create_keys_index);
      }
      c.db.exec(sql_.create_layout);
      SQLite::Statement record(c.db, sql_.set_layout_version);
      record.bind(1, kLayoutVersion);
      record.exec();
      transaction.commit();
    }
    check_columns(c, "k,v,expires_at,metadata");
  }

  // The version recorded for the table, or none (a version 1 table, or no
  // table yet).
  std::optional<int> recorded_version(Connection& c) {
    if (!c.db.tableExists(std::string(kLayoutTable))) return std::nullopt;
    SQLite::Statement s(c.db, sql_.layout_version);
    if (!s.executeStep()) return std::nullopt;
    return s.getColumn(0).getInt();
  }

  void refuse_newer(std::optional<int> version) const {
    if (version && *version > kLayoutVersion) {
      throw Error(ErrorCode::unsupported,
                  "table '" + options_.table + "' in " + where_ + ": layout version " +
                      std::to_string(*version) + " is newer than this kvstore supports (" +
                      std::to_string(kLayoutVersion) + "); open it with a newer kvstore",
                  kDriver, false);
    }
  }

  void check_columns(Connection& c, std::string_view expected) {
    SQLite::Statement columns(c.db, sql_.table_columns);
    columns.bind(1, options_.table);
    std::string names;
    while (columns.executeStep()) {
      names += (names.empty() ? "" : ",") + columns.getColumn(0).getString();
    }
    if (names != expected) {
      throw Error(ErrorCode::invalid_argument,
                  "table '" + options_.table + "' in " + where_ +
                      " is not a kvstore table (its columns are " + names +
                      "); choose another with ?table=",
                  kDriver, false);
    }
  }

  // Deletes a bounded batch of expired rows when the throttle says so. The
  // index on expires_at makes this proportional to the rows deleted. Runs
  // with the writer lock held, after the caller's write succeeded; its
  // failure is not the caller's, so it is dropped and tried on the next write.
  void after_write(Connection& c, std::int64_t now) {
    sweeper_.run_if_due([&] {
      try {
        SQLite::Statement& s = c.statement(sql_, kSweep);
        Reset reset(s);
        s.bind(1, now);
        s.bind(2, static_cast<std::int64_t>(options_.sweep_batch));
        return static_cast<std::size_t>(s.exec()) >= options_.sweep_batch;
      } catch (const SQLite::Exception&) {
        return true;
      }
    });
  }

  const Options options_;
  const bool memory_;
  const std::string where_;
  const detail::Sql sql_;
  const detail::ClassifyContext errors_;
  const ErrorClassifier classifier_;
  ConnectionPool<Connection> pool_;
  SweepThrottle sweeper_;
  std::mutex start_mutex_;
  std::atomic<bool> started_{false};
  // Null for an in-memory database (one connection); set once, before started_.
  std::shared_ptr<std::mutex> writer_;
};

}  // namespace

std::unique_ptr<KvStore> create(const Options& options) {
  return std::make_unique<KvStore>(std::make_unique<SqliteStore>(detail::checked(options)),
                                   options.store);
}

std::unique_ptr<Driver> open(Url& url) {
  return std::make_unique<SqliteStore>(detail::checked(detail::take_options(url)));
}

}  // namespace kvstore::sqlite
