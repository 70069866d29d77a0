// The MySQL / MariaDB driver. See docs/drivers/mysql.md for the schema and
// the reasoning behind each statement.
#include <kvstore/mysql.h>

// Only the <cppconn/...> interface headers: <mysql_driver.h> and
// <mysql_connection.h> pull in Boost. get_driver_instance() is declared in
// <cppconn/driver.h>.
#include <cppconn/connection.h>
#include <cppconn/driver.h>
#include <cppconn/exception.h>
#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>
#include <cppconn/statement.h>

#include <dlfcn.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <random>
#include <thread>
#include <utility>
#include <vector>

#include <kvstore/deadline.h>
#include <kvstore/driver.h>

namespace kvstore::mysql {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr const char* kDriver = "mysql";

// --- Connector/C++ process-wide state ---------------------------------------

// get_driver_instance() is not thread-safe on its first call (it fills a
// static map and initialises the C client library), so it runs once here.
// After that, connect() works on a connection of its own and needs no lock:
// a store-wide (or process-wide) lock around it would make every thread wait
// for the handshakes of all threads before it while a server stalls.
struct DriverState {
  sql::Driver* driver;
  // libmysqlclient (Oracle's C client) repeats a timed-out read: a read may
  // block for 3 x OPT_READ_TIMEOUT. libmariadb (what Debian's Connector/C++
  // links) waits once. Only libmariadb exports mariadb_get_infov.
  bool reads_retried;
};

DriverState& driver_state() {
  static DriverState* state =
      new DriverState{get_driver_instance(),
                      ::dlsym(RTLD_DEFAULT, "mariadb_get_infov") == nullptr};  // never destroyed
  return *state;
}

// The C client library wants mysql_thread_init() in every thread that uses
// it and mysql_thread_end() when the thread exits (libmysqlclient leaks
// per-thread state otherwise; libmariadb treats both as no-ops).
struct ThreadRegistration {
  sql::Driver* driver;
  explicit ThreadRegistration(sql::Driver* d) : driver(d) { driver->threadInit(); }
  ~ThreadRegistration() { driver->threadEnd(); }
};

sql::Driver* driver_for_this_thread() {
  sql::Driver* driver = driver_state().driver;
  thread_local ThreadRegistration registration(driver);
  return driver;
}

// --- Error classification ----------------------------------------------------

enum class Failure {
  connection_unsent,  // the connection is unusable and the statement never ran
  connection_lost,    // the connection broke; the statement may have run
  deadlock,           // InnoDB rolled the statement back; it can be retried
  lock_timeout,
  no_table,
  other,
};

Failure classify(const sql::SQLException& e) {
  switch (e.getErrorCode()) {
    case 2002:  // CR_CONNECTION_ERROR (socket)
    case 2003:  // CR_CONN_HOST_ERROR
    case 2005:  // CR_UNKNOWN_HOST
    case 2006:  // CR_SERVER_GONE_ERROR: the command could not be sent
    case 1053:  // ER_SERVER_SHUTDOWN: sent before the server read our command
    case 1040:  // ER_CON_COUNT_ERROR
      return Failure::connection_unsent;
    case 2013:  // CR_SERVER_LOST: the answer never came
    case 2055:  // CR_SERVER_LOST_EXTENDED
    case 1927:  // ER_CONNECTION_KILLED (MariaDB)
    case 4031:  // ER_CLIENT_INTERACTION_TIMEOUT (MySQL 8)
    case 1152:  // ER_ABORTING_CONNECTION
    case 1158:  // ER_NET_READ_ERROR
    case 1159:  // ER_NET_READ_INTERRUPTED
    case 1160:  // ER_NET_ERROR_ON_WRITE
    case 1161:  // ER_NET_WRITE_INTERRUPTED
      return Failure::connection_lost;
    case 1213:  // ER_LOCK_DEADLOCK
      return Failure::deadlock;
    case 1205:  // ER_LOCK_WAIT_TIMEOUT
      return Failure::lock_timeout;
    case 1146:  // ER_NO_SUCH_TABLE
      return Failure::no_table;
    default:
      return Failure::other;
  }
}

bool is_connection_failure(Failure f) {
  return f == Failure::connection_unsent || f == Failure::connection_lost;
}

// What a server error means to the caller. Configuration errors (who we
// are, which database) are never unavailable: retrying cannot fix them. A
// connection failure is unavailable here; the caller turns it into timeout
// when it took as long as the timeout that bounded it (libmariadb reports a
// timed-out read as a plain 2013 "Lost connection").
ErrorCode code_for(const sql::SQLException& e) {
  switch (e.getErrorCode()) {
    case 1044:  // ER_DBACCESS_DENIED_ERROR
    case 1045:  // ER_ACCESS_DENIED_ERROR
    case 1130:  // ER_HOST_NOT_PRIVILEGED
    case 1142:  // ER_TABLEACCESS_DENIED_ERROR
    case 1143:  // ER_COLUMNACCESS_DENIED_ERROR
    case 1227:  // ER_SPECIFIC_ACCESS_DENIED_ERROR
    case 1290:  // ER_OPTION_PREVENTS_STATEMENT (read_only)
    case 1698:  // ER_ACCESS_DENIED_NO_PASSWORD_ERROR (unknown user, unix_socket-only user)
    case 1792:  // ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION
      return ErrorCode::permission_denied;
    case 1049:  // ER_BAD_DB_ERROR
    case 1102:  // ER_WRONG_DB_NAME
    case 1300:  // ER_INVALID_CHARACTER_STRING (e.g. a database name that is not UTF-8)
      return ErrorCode::invalid_argument;
    case 1153:  // ER_NET_PACKET_TOO_LARGE
    case 2020:  // CR_NET_PACKET_TOO_LARGE
    case 1406:  // ER_DATA_TOO_LONG
      return ErrorCode::limit_exceeded;
    case 1205:
    case 1213:
      return ErrorCode::conflict;
    default:
      break;
  }
  return is_connection_failure(classify(e)) ? ErrorCode::unavailable : ErrorCode::internal;
}

std::string describe(const sql::SQLException& e) {
  std::string out = e.what();
  out += " (error " + std::to_string(e.getErrorCode());
  if (!e.getSQLState().empty()) out += ", SQLSTATE " + e.getSQLState();
  out += ")";
  return out;
}

// --- Configuration -----------------------------------------------------------

struct Config {
  std::string host = "127.0.0.1";
  int port = 3306;
  std::string user;
  std::string password;
  std::string database;
  std::string table = "kvstore";
  std::size_t pool_size = 8;
  milliseconds pool_timeout{10000};
  milliseconds connect_timeout{5000};
  milliseconds io_timeout{30000};
  milliseconds lock_timeout{10000};
  milliseconds sweep_interval{1000};
  std::int64_t sweep_batch = 500;
  std::string redacted_url;
};

// The MySQL client takes these timeouts in whole seconds.
int whole_seconds(milliseconds d) {
  return static_cast<int>(std::max<std::int64_t>(1, (d.count() + 999) / 1000));
}

// What the client library is told, and how long each step can block with
// those settings: the bounds a call's deadline is made of.
struct ClientTimeouts {
  int connect_s;         // OPT_CONNECT_TIMEOUT: TCP connect and the server's greeting
  int read_s;            // OPT_READ_TIMEOUT and OPT_WRITE_TIMEOUT
  milliseconds connect;  // longest handshake
  milliseconds read;     // longest single read or write
};

ClientTimeouts client_timeouts(const Config& config, bool reads_retried) {
  ClientTimeouts t{};
  t.connect_s = whole_seconds(config.connect_timeout);
  t.connect = std::chrono::seconds(t.connect_s);
  const int io_s = whole_seconds(config.io_timeout);
  // A client that reads up to 3 times gets a third of io_timeout per read
  // (at least the 1 s the option can express) so the total stays near it.
  t.read_s = reads_retried ? std::max(1, io_s / 3) : io_s;
  t.read = std::chrono::seconds(reads_retried ? 3 * t.read_s : t.read_s);
  return t;
}

bool valid_table_name(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
}

// --- Statements ----------------------------------------------------------------

enum Stmt : std::size_t {
  kGet,
  kSet,
  kSetTtl,
  kRemove,
  kLive,
  kCreate,
  kCreateTtl,
  kReplace,
  kReplaceTtl,
  kReplacedAlready,
  kReplacedAlreadyTtl,
  kDeleteIf,
  kListTo,
  kListAll,
  kSweep,
  kStmtCount,
};

// The server's clock in Unix milliseconds. Sessions run with time_zone
// '+00:00', so NOW(3) -> UNIX_TIMESTAMP is exact (no DST ambiguity), and NOW()
// is fixed for the duration of one statement.
#define KV_NOW_MS "CAST(UNIX_TIMESTAMP(NOW(3)) * 1000 AS SIGNED)"
#define KV_LIVE "(expires_at IS NULL OR expires_at > " KV_NOW_MS ")"

std::array<std::string, kStmtCount> statement_texts(const std::string& table) {
  const std::string t = "`" + table + "`";
  std::array<std::string, kStmtCount> s;
  s[kGet] = "SELECT v FROM " + t + " WHERE k = ? AND " KV_LIVE;
  s[kSet] = "INSERT INTO " + t +
            " (k, v, expires_at) VALUES (?, ?, NULL)"
            " ON DUPLICATE KEY UPDATE v = VALUES(v), expires_at = NULL";
  s[kSetTtl] = "INSERT INTO " + t +
               " (k, v, expires_at) VALUES (?, ?, " KV_NOW_MS
               " + ?)"
               " ON DUPLICATE KEY UPDATE v = VALUES(v), expires_at = VALUES(expires_at)";
  s[kRemove] = "DELETE FROM " + t + " WHERE k = ?";
  s[kLive] = "SELECT 1 FROM " + t + " WHERE k = ? AND " KV_LIVE;
  // Create if absent or expired, in one statement: the insert either adds
  // the row or hits the existing one, which InnoDB then locks and re-reads
  // in its latest committed version (whatever the isolation level); the row
  // is overwritten only if that version has expired. Affected rows (without
  // CLIENT_FOUND_ROWS): 1 inserted, 2 overwrote an expired row, 0 live row
  // left alone. v is assigned first so both IF()s see the old expires_at.
  const std::string expired = "expires_at <= " KV_NOW_MS;
  const std::string create_update = " ON DUPLICATE KEY UPDATE v = IF(" + expired +
                                    ", VALUES(v), v), expires_at = IF(" + expired +
                                    ", VALUES(expires_at), expires_at)";
  s[kCreate] = "INSERT INTO " + t + " (k, v, expires_at) VALUES (?, ?, NULL)" + create_update;
  s[kCreateTtl] =
      "INSERT INTO " + t + " (k, v, expires_at) VALUES (?, ?, " KV_NOW_MS " + ?)" + create_update;
  // UPDATE reads the latest committed row under an exclusive lock at every
  // isolation level, so the compare and the write are one atomic step. The
  // comparison is binary: v is a LONGBLOB.
  s[kReplace] = "UPDATE " + t + " SET v = ?, expires_at = NULL WHERE k = ? AND v = ? AND " KV_LIVE;
  s[kReplaceTtl] = "UPDATE " + t +
                   " SET v = ?, expires_at = " KV_NOW_MS " + ? WHERE k = ? AND v = ? AND " KV_LIVE;
  // After an UPDATE that reported 0 changed rows while desired == expected:
  // was that "no match" or "matched but nothing to change"?
  s[kReplacedAlready] =
      "SELECT expires_at IS NULL FROM " + t + " WHERE k = ? AND v = ? AND " KV_LIVE;
  s[kReplacedAlreadyTtl] =
      "SELECT expires_at <=> " KV_NOW_MS " + ? FROM " + t + " WHERE k = ? AND v = ? AND " KV_LIVE;
  s[kDeleteIf] = "DELETE FROM " + t + " WHERE k = ? AND v = ? AND " KV_LIVE;
  s[kListTo] =
      "SELECT k, v FROM " + t + " WHERE k >= ? AND k < ? AND " KV_LIVE " ORDER BY k LIMIT ?";
  s[kListAll] = "SELECT k, v FROM " + t + " WHERE k >= ? AND " KV_LIVE " ORDER BY k LIMIT ?";
  return s;
}

std::string sweep_text(const std::string& table, std::int64_t batch) {
  return "DELETE FROM `" + table +
         "` WHERE expires_at <= " KV_NOW_MS " ORDER BY expires_at LIMIT " + std::to_string(batch);
}

std::string create_table_text(const std::string& table) {
  // k: the encoded key (at most kMaxEncodedKeyBytes = 2304 bytes) as the
  // primary key; VARBINARY compares bytes without PAD SPACE, which is the key
  // order. 2304 bytes fits InnoDB's 3072-byte index limit (DYNAMIC rows,
  // 16 KiB pages). v: the JSON text, compared byte for byte by cas.
  return "CREATE TABLE IF NOT EXISTS `" + table +
         "` ("
         " k VARBINARY(" +
         std::to_string(kMaxEncodedKeyBytes) +
         ") NOT NULL,"
         " v LONGBLOB NOT NULL,"
         " expires_at BIGINT NULL,"
         " PRIMARY KEY (k),"
         " KEY expires_at (expires_at)"
         ") ENGINE=InnoDB ROW_FORMAT=DYNAMIC DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin";
}

#undef KV_LIVE

// --- Connections and the pool ----------------------------------------------------

struct Connection {
  std::unique_ptr<sql::Connection> conn;
  std::array<std::unique_ptr<sql::PreparedStatement>, kStmtCount> stmts;
  std::unique_ptr<sql::PreparedStatement> sweep;
  Clock::time_point last_used = Clock::now();
  bool broken = false;  // lost after the call's own statements succeeded
  // This call has sent a statement that writes: if the connection breaks
  // now, the write may have run. (Preparing a statement writes nothing.)
  bool sent_write = false;

  ~Connection() {
    // Statements before their connection; nothing may escape a destructor.
    try {
      sweep.reset();
      for (auto& s : stmts) s.reset();
      conn.reset();
    } catch (...) {
    }
  }
};

class Pool {
 public:
  explicit Pool(std::size_t size) : size_(size) {}

  // A pooled connection, or nullptr meaning "you may open a new one" (the
  // slot is reserved; give it back with release() or forget()). Waits up to
  // `timeout` when all connections are in use.
  std::unique_ptr<Connection> acquire(milliseconds timeout, bool* got_slot) {
    std::unique_lock lock(mutex_);
    if (!available_.wait_for(lock, timeout, [&] { return !idle_.empty() || open_ < size_; })) {
      *got_slot = false;
      return nullptr;
    }
    *got_slot = true;
    if (!idle_.empty()) {
      std::unique_ptr<Connection> c = std::move(idle_.back());
      idle_.pop_back();
      return c;
    }
    ++open_;
    return nullptr;
  }

  void release(std::unique_ptr<Connection> c) {
    c->last_used = Clock::now();
    std::lock_guard lock(mutex_);
    idle_.push_back(std::move(c));
    available_.notify_one();
  }

  // A slot whose connection was closed or never opened.
  void forget() {
    std::lock_guard lock(mutex_);
    --open_;
    available_.notify_one();
  }

  // After a connection broke, the idle ones most likely broke with it (a
  // server restart): close them all so no later call trips over them.
  void drop_idle() {
    std::vector<std::unique_ptr<Connection>> dropped;
    {
      std::lock_guard lock(mutex_);
      dropped.swap(idle_);
      open_ -= dropped.size();
      available_.notify_all();
    }
  }

  std::size_t size() const { return size_; }

 private:
  const std::size_t size_;
  std::mutex mutex_;
  std::condition_variable available_;
  std::vector<std::unique_ptr<Connection>> idle_;
  std::size_t open_ = 0;
};

// A connection idle for longer than this is pinged before a cas. When a
// connection breaks mid-statement the client cannot tell whether the server
// ran it, so a cas must not be the call that discovers a server restart
// (which takes far longer than this); busy connections skip the ping.
constexpr milliseconds kValidateAfterIdle{100};
constexpr int kDeadlockRetries = 20;

// How a call may be repeated after its connection broke.
enum class Retry {
  idempotent,  // repeating is harmless: reads
  if_unsent,   // only if no write statement may have reached the server: set, remove, cas
};

// now_ms + ttl must stay a BIGINT. The core rejects TTLs beyond kMaxTtl
// (100 years), far below 2^50 ms (~35,000 years), so this cap never shortens
// a TTL a caller may pass; it only keeps the arithmetic safe for any input.
constexpr std::int64_t kTtlCapMs = std::int64_t{1} << 50;
static_assert(kMaxTtl.count() < kTtlCapMs, "the BIGINT cap must not shorten kMaxTtl");
std::int64_t ttl_ms(milliseconds ttl) { return std::min<std::int64_t>(ttl.count(), kTtlCapMs); }

sql::SQLString bytes(std::string_view s) { return sql::SQLString(s.data(), s.size()); }

// Moves the text out of a SQLString (its operator-> exposes the string).
std::string take_string(sql::SQLString s) { return std::move(*s.operator->()); }

// --- The store ----------------------------------------------------------------------

class MysqlStore final : public Driver {
 public:
  explicit MysqlStore(Config config)
      : Driver(kDriver, make_capabilities()),
        config_(std::move(config)),
        timeouts_(client_timeouts(config_, driver_state().reads_retried)),
        texts_(statement_texts(config_.table)),
        sweep_text_(sweep_text(config_.table, config_.sweep_batch)),
        pool_(config_.pool_size) {}

 protected:
  std::optional<std::string> do_get(const std::string& key) override {
    return run(Retry::idempotent, [&](Connection& c) -> std::optional<std::string> {
      sql::PreparedStatement& s = stmt(c, kGet);
      s.setString(1, key);
      std::unique_ptr<sql::ResultSet> rs(s.executeQuery());
      if (!rs->next()) return std::nullopt;
      return take_string(rs->getString(1));
    });
  }

  void do_set(const std::string& key, std::string_view json, Ttl ttl) override {
    run(Retry::if_unsent, [&](Connection& c) {
      check_packet(json, 1);
      sql::PreparedStatement& s = stmt(c, ttl ? kSetTtl : kSet);
      s.setString(1, key);
      s.setString(2, bytes(json));
      if (ttl) s.setInt64(3, ttl_ms(*ttl));
      c.sent_write = true;
      s.executeUpdate();
      maybe_sweep(c);
      return 0;
    });
  }

  void do_remove(const std::string& key) override {
    run(Retry::if_unsent, [&](Connection& c) {
      sql::PreparedStatement& s = stmt(c, kRemove);
      s.setString(1, key);
      c.sent_write = true;
      s.executeUpdate();
      return 0;
    });
  }

  bool do_swap(const std::string& key, std::optional<std::string_view> expected,
               std::optional<std::string_view> desired, Ttl ttl) override {
    if (!expected && !desired) {
      // "Remove if absent": nothing to write; one read decides.
      return run(Retry::idempotent, [&](Connection& c) {
        sql::PreparedStatement& s = stmt(c, kLive);
        s.setString(1, key);
        std::unique_ptr<sql::ResultSet> rs(s.executeQuery());
        return !rs->next();
      });
    }
    return run(Retry::if_unsent, [&](Connection& c) {
      if (expected) check_packet(*expected, desired ? 2 : 1);
      if (desired) check_packet(*desired, expected ? 2 : 1);
      bool swapped = false;
      if (!expected) {
        sql::PreparedStatement& s = stmt(c, ttl ? kCreateTtl : kCreate);
        s.setString(1, key);
        s.setString(2, bytes(*desired));
        if (ttl) s.setInt64(3, ttl_ms(*ttl));
        c.sent_write = true;
        swapped = s.executeUpdate() > 0;
      } else if (!desired) {
        sql::PreparedStatement& s = stmt(c, kDeleteIf);
        s.setString(1, key);
        s.setString(2, bytes(*expected));
        c.sent_write = true;
        swapped = s.executeUpdate() > 0;
      } else {
        swapped = replace(c, key, *expected, *desired, ttl);
      }
      if (swapped) maybe_sweep(c);
      return swapped;
    });
  }

  std::vector<StoredEntry> do_list(const KeyRange& range, std::size_t limit) override {
    const auto capped = static_cast<std::int64_t>(std::min<std::size_t>(limit, 1u << 30));
    return run(Retry::idempotent, [&](Connection& c) {
      sql::PreparedStatement& s = stmt(c, range.end ? kListTo : kListAll);
      unsigned i = 1;
      s.setString(i++, range.begin);
      if (range.end) s.setString(i++, *range.end);
      s.setInt64(i, capped);
      std::unique_ptr<sql::ResultSet> rs(s.executeQuery());
      std::vector<StoredEntry> page;
      page.reserve(std::min<std::size_t>(limit, 1024));
      while (rs->next()) {
        page.push_back({take_string(rs->getString(1)), take_string(rs->getString(2))});
      }
      return page;
    });
  }

 private:
  static Capabilities make_capabilities() {
    Capabilities caps;
    caps.persistent = true;
    caps.shared = true;
    caps.server_clock = true;
    return caps;
  }

  // UPDATE reports only rows it changed (CLIENT_FOUND_ROWS is off, which the
  // create statement needs). When desired == expected the matched row may not
  // change at all, so 0 is ambiguous; a read then decides, and repeats the
  // UPDATE if the row matches but still needs its new expiry.
  bool replace(Connection& c, const std::string& key, std::string_view expected,
               std::string_view desired, Ttl ttl) {
    for (int attempt = 0;; ++attempt) {
      sql::PreparedStatement& u = stmt(c, ttl ? kReplaceTtl : kReplace);
      unsigned i = 1;
      u.setString(i++, bytes(desired));
      if (ttl) u.setInt64(i++, ttl_ms(*ttl));
      u.setString(i++, key);
      u.setString(i, bytes(expected));
      c.sent_write = true;
      if (u.executeUpdate() > 0) return true;
      if (expected != desired) return false;
      sql::PreparedStatement& q = stmt(c, ttl ? kReplacedAlreadyTtl : kReplacedAlready);
      i = 1;
      if (ttl) q.setInt64(i++, ttl_ms(*ttl));
      q.setString(i++, key);
      q.setString(i, bytes(expected));
      std::unique_ptr<sql::ResultSet> rs(q.executeQuery());
      if (!rs->next()) return false;        // no live match at this instant
      if (rs->getInt(1) == 1) return true;  // matches and already as desired
      if (attempt >= 10) return false;      // the clock stood still: give up
    }
  }

  // A value the server cannot receive is an error of the configuration, not
  // an obscure failure: max_allowed_packet bounds every statement. Called on
  // a leased connection, so the first connection has read the server's value.
  void check_packet(std::string_view value, int values_in_statement) {
    const std::int64_t packet = max_packet_.load(std::memory_order_relaxed);
    if (packet <= 0) return;
    const std::int64_t needed = static_cast<std::int64_t>(value.size()) * values_in_statement +
                                static_cast<std::int64_t>(kMaxEncodedKeyBytes) + 1024;
    if (needed > packet) {
      fail(ErrorCode::limit_exceeded,
           "a value of " + std::to_string(value.size()) +
               " bytes does not fit the server's max_allowed_packet of " + std::to_string(packet) +
               " bytes (" + std::to_string(needed) +
               " needed for this statement); raise max_allowed_packet on the server to at least " +
               std::to_string(2 * capabilities().max_value_bytes + 64 * 1024) +
               " or set max_value_size in the URL lower");
    }
  }

  sql::PreparedStatement& stmt(Connection& c, Stmt which) {
    auto& slot = c.stmts[which];
    if (!slot) slot.reset(c.conn->prepareStatement(texts_[which]));
    return *slot;
  }

  // Every `sweep_interval`, one write also deletes up to sweep_batch expired
  // rows through the expires_at index; a full batch lets the next write go
  // on at once, so a backlog drains batch by batch without a full scan.
  void maybe_sweep(Connection& c) {
    if (config_.sweep_interval.count() == 0) return;
    const std::int64_t now =
        std::chrono::duration_cast<milliseconds>(Clock::now().time_since_epoch()).count();
    std::int64_t due = next_sweep_.load(std::memory_order_relaxed);
    if (now < due) return;
    if (!next_sweep_.compare_exchange_strong(due, now + config_.sweep_interval.count())) return;
    try {
      if (!c.sweep) c.sweep.reset(c.conn->prepareStatement(sweep_text_));
      if (c.sweep->executeUpdate() >= config_.sweep_batch) next_sweep_.store(now);
    } catch (const sql::SQLException& e) {
      // The caller's write already committed, so its result stands; a failed
      // sweep is retried later, and a lost connection is closed by run().
      if (is_connection_failure(classify(e))) c.broken = true;
    }
  }

  // A call's time budget: one handshake and one blocked read or write
  // (connect_timeout + io_timeout as the client library enforces them). It
  // starts once the call holds a pool slot; waiting for the slot is bounded
  // by pool_timeout on its own. A step that ran into its timeout ends the
  // call, so a retry never stacks a second timeout on the first; retries
  // after fast failures (a restarted server) stay within the same deadline.
  struct Budget {
    std::optional<Clock::time_point> deadline;
    Clock::time_point start = Clock::now();
  };

  static milliseconds since(Clock::time_point t) {
    return std::chrono::duration_cast<milliseconds>(Clock::now() - t);
  }

  // libmariadb reports a read that timed out as the same 2013 "Lost
  // connection" as a reset, so the time the step took tells them apart. The
  // client's timeouts are whole seconds; a reset comes within milliseconds.
  static bool ran_into(milliseconds took, milliseconds bound) {
    return took + milliseconds(100) >= bound;
  }

  [[noreturn]] void fail_deadline(const Budget& budget, const std::string& what) {
    fail(ErrorCode::timeout, "the call's deadline of " +
                                 std::to_string((timeouts_.connect + timeouts_.read).count()) +
                                 " ms (connect_timeout + io_timeout) passed after " +
                                 std::to_string(since(budget.start).count()) + " ms " + what);
  }

  // Opens a connection with this store's session settings, and on the very
  // first one creates the table (or checks the one there) and reads
  // max_allowed_packet.
  std::unique_ptr<Connection> connect() {
    sql::Driver* driver = driver_for_this_thread();
    sql::ConnectOptionsMap options;
    std::string host = config_.host;
    if (host.find(':') != std::string::npos) host = "[" + host + "]";
    options["hostName"] = sql::SQLString("tcp://" + host);
    options["port"] = config_.port;
    options["userName"] = sql::SQLString(config_.user);
    options["password"] = sql::SQLString(config_.password);
    options["schema"] = sql::SQLString(config_.database);
    options["OPT_CHARSET_NAME"] = sql::SQLString("utf8mb4");
    options["OPT_RECONNECT"] = false;  // reconnecting is ours to do, with statements re-prepared
    options["CLIENT_FOUND_ROWS"] = false;  // affected rows = changed rows (see kCreate)
    // libmariadb bounds the TCP connect and the wait for the server's
    // greeting by OPT_CONNECT_TIMEOUT, every later read by OPT_READ_TIMEOUT.
    options["OPT_CONNECT_TIMEOUT"] = timeouts_.connect_s;
    options["OPT_READ_TIMEOUT"] = timeouts_.read_s;
    options["OPT_WRITE_TIMEOUT"] = timeouts_.read_s;
    auto c = std::make_unique<Connection>();
    const Clock::time_point started = Clock::now();
    try {
      c->conn.reset(driver->connect(options));
    } catch (const sql::SQLException& e) {
      const milliseconds took = since(started);
      if (is_connection_failure(classify(e)) &&
          ran_into(took, std::min(timeouts_.connect, timeouts_.read))) {
        fail(ErrorCode::timeout, "connecting to " + config_.redacted_url + " timed out after " +
                                     std::to_string(took.count()) + " ms (connect_timeout " +
                                     std::to_string(timeouts_.connect.count()) +
                                     " ms): " + describe(e));
      }
      fail(code_for(e), "cannot connect to " + config_.redacted_url + ": " + describe(e));
    }
    const Clock::time_point connected = Clock::now();
    try {
      c->conn->setAutoCommit(true);
      std::unique_ptr<sql::Statement> s(c->conn->createStatement());
      // Strict mode so nothing is ever truncated silently; UTC so NOW(3) maps
      // to Unix time exactly; a lock wait shorter than io_timeout so a
      // blocked statement fails cleanly instead of losing the connection.
      s->execute(
          "SET SESSION time_zone = '+00:00', "
          "sql_mode = 'STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION', "
          "innodb_lock_wait_timeout = " +
          std::to_string(whole_seconds(config_.lock_timeout)));
      if (!ready_.load(std::memory_order_acquire)) prepare_schema(*s);
    } catch (const sql::SQLException& e) {
      const milliseconds took = since(connected);
      if (is_connection_failure(classify(e)) && ran_into(took, timeouts_.read)) {
        fail(ErrorCode::timeout, "reading from " + config_.redacted_url + " timed out after " +
                                     std::to_string(took.count()) +
                                     " ms while setting up a new connection (io_timeout " +
                                     std::to_string(timeouts_.read.count()) +
                                     " ms): " + describe(e));
      }
      fail(code_for(e), "setting up a connection to " + config_.redacted_url + ": " + describe(e));
    }
    return c;
  }

  void prepare_schema(sql::Statement& s) {
    std::lock_guard lock(schema_mutex_);
    if (ready_.load(std::memory_order_relaxed)) return;
    try {
      s.execute(create_table_text(config_.table));
    } catch (const sql::SQLException& e) {
      if (e.getErrorCode() == 1071) {  // ER_TOO_LONG_KEY
        fail(ErrorCode::internal,
             "cannot create table `" + config_.table + "`: " + describe(e) + "; the " +
                 std::to_string(kMaxEncodedKeyBytes) +
                 "-byte primary key needs InnoDB with ROW_FORMAT=DYNAMIC and 16 KiB pages");
      }
      throw;
    }
    check_columns(s);
    std::unique_ptr<sql::ResultSet> rs(s.executeQuery("SELECT @@max_allowed_packet"));
    if (rs->next()) max_packet_.store(rs->getInt64(1));
    ready_.store(true, std::memory_order_release);
  }

  // CREATE TABLE IF NOT EXISTS leaves a table someone else made alone; one
  // with other columns would fail every statement with "Unknown column", so
  // it is refused here, once, with what it has and what it needs. SHOW
  // COLUMNS (not information_schema) finds the table whatever
  // lower_case_table_names says.
  void check_columns(sql::Statement& s) {
    static constexpr std::array<std::pair<std::string_view, std::string_view>, 3> kExpected{
        {{"k", "varbinary"}, {"v", "longblob"}, {"expires_at", "bigint"}}};
    std::unique_ptr<sql::ResultSet> rs(s.executeQuery("SHOW COLUMNS FROM `" + config_.table + "`"));
    std::string found;
    std::size_t matched = 0;
    std::size_t columns = 0;
    while (rs->next()) {
      const std::string field = rs->getString("Field");
      const std::string type = rs->getString("Type");
      found += (found.empty() ? "" : ", ") + field + " " + type;
      ++columns;
      for (const auto& [name, type_prefix] : kExpected) {
        if (field == name && type.compare(0, type_prefix.size(), type_prefix) == 0) ++matched;
      }
    }
    if (columns != kExpected.size() || matched != kExpected.size()) {
      fail(ErrorCode::invalid_argument, not_our_table("its columns are (" + found + ")"));
    }
  }

  std::string not_our_table(const std::string& what) const {
    return "table `" + config_.table + "` in database `" + config_.database +
           "` is not a kvstore table: " + what +
           "; kvstore needs exactly the columns k VARBINARY, v LONGBLOB, expires_at BIGINT "
           "(see docs/drivers/mysql.md); choose another table with ?table= or drop this one";
  }

  // A leased connection, returned to the pool unless it broke. `validate`
  // pings a connection that has been idle a while, for calls that must not
  // be the ones to discover a dead connection (writes are not repeated once
  // sent).
  std::unique_ptr<Connection> lease(bool validate, Budget& budget) {
    const Clock::time_point pool_deadline =
        budget.deadline ? std::min(*budget.deadline, deadline_after(config_.pool_timeout))
                        : deadline_after(config_.pool_timeout);
    for (;;) {
      bool got_slot = false;
      auto remaining = std::chrono::duration_cast<milliseconds>(pool_deadline - Clock::now());
      std::unique_ptr<Connection> c =
          pool_.acquire(std::max(remaining, milliseconds(0)), &got_slot);
      if (!got_slot) {
        if (budget.deadline) fail_deadline(budget, "waiting for a pooled connection");
        fail(ErrorCode::timeout, "all " + std::to_string(pool_.size()) +
                                     " pooled connections stayed busy for " +
                                     std::to_string(config_.pool_timeout.count()) +
                                     " ms (raise pool_size or pool_timeout)");
      }
      if (!budget.deadline) budget.deadline = deadline_after(timeouts_.connect + timeouts_.read);
      if (c) {
        if (!validate || Clock::now() - c->last_used < kValidateAfterIdle) return c;
        const Clock::time_point started = Clock::now();
        bool alive = false;
        try {
          alive = c->conn->isValid();
        } catch (const sql::SQLException&) {
        }
        if (alive) return c;
        const milliseconds took = since(started);
        c.reset();
        pool_.forget();
        pool_.drop_idle();
        if (ran_into(took, timeouts_.read)) {
          fail(ErrorCode::timeout, "the server did not answer a ping within io_timeout (" +
                                       std::to_string(took.count()) + " ms)");
        }
        continue;
      }
      if (Clock::now() >= *budget.deadline) {
        pool_.forget();
        fail_deadline(budget, "before a new connection could be opened");
      }
      try {
        return connect();
      } catch (...) {
        pool_.forget();
        throw;
      }
    }
  }

  // Runs `body` on a pooled connection, handling what the server may say:
  // broken connections are replaced (and the call repeated when `retry`
  // allows and the deadline has room), deadlocks are repeated, a dropped
  // table is created again.
  template <class Body>
  auto run(Retry retry, Body&& body) -> decltype(body(std::declval<Connection&>())) {
    driver_for_this_thread();
    Budget budget;
    int attempts = 0;
    bool recreated = false;
    for (;;) {
      ++attempts;
      std::unique_ptr<Connection> c = lease(retry == Retry::if_unsent, budget);
      const Clock::time_point started = Clock::now();
      c->sent_write = false;
      try {
        auto result = body(*c);
        if (c->broken) {
          c.reset();
          pool_.forget();
        } else {
          pool_.release(std::move(c));
        }
        return result;
      } catch (const sql::SQLException& e) {
        const Failure f = classify(e);
        if (is_connection_failure(f)) {
          const milliseconds took = since(started);
          const bool sent = f != Failure::connection_unsent && c->sent_write;
          c.reset();
          pool_.forget();
          pool_.drop_idle();
          const bool timed_out = ran_into(took, timeouts_.read);
          const bool may_repeat = !timed_out && (retry == Retry::idempotent || !sent);
          if (may_repeat && attempts <= 2 && Clock::now() < *budget.deadline) continue;
          std::string what = timed_out
                                 ? "reading from " + config_.redacted_url + " timed out after " +
                                       std::to_string(took.count()) + " ms (io_timeout " +
                                       std::to_string(timeouts_.read.count()) + " ms)"
                                 : "connection to " + config_.redacted_url + " lost";
          if (retry == Retry::if_unsent && sent) {
            what +=
                "; the write may have reached the server, so its outcome is unknown"
                " and it was not repeated";
          }
          fail(timed_out ? ErrorCode::timeout : code_for(e), what + ": " + describe(e));
        }
        pool_.release(std::move(c));
        if (f == Failure::deadlock && attempts <= kDeadlockRetries) {
          thread_local std::minstd_rand jitter(
              static_cast<unsigned>(std::hash<std::thread::id>{}(std::this_thread::get_id())));
          std::this_thread::sleep_for(std::chrono::microseconds(jitter() % (200 * attempts) + 50));
          continue;
        }
        if (f == Failure::no_table && !recreated) {
          // Someone dropped the table after we created it: create it again.
          recreated = true;
          ready_.store(false);
          std::unique_ptr<Connection> fresh = lease(false, budget);
          try {
            std::unique_ptr<sql::Statement> s(fresh->conn->createStatement());
            prepare_schema(*s);
            // Statements prepared against the old table are stale everywhere.
            fresh.reset();
            pool_.forget();
            pool_.drop_idle();
          } catch (const sql::SQLException& e2) {
            fresh.reset();
            pool_.forget();
            fail(code_for(e2), "recreating table `" + config_.table + "`: " + describe(e2));
          } catch (...) {
            fresh.reset();
            pool_.forget();
            throw;
          }
          continue;
        }
        if (e.getErrorCode() == 1054) {  // ER_BAD_FIELD_ERROR: the table changed under us
          ready_.store(false);           // the next new connection checks the columns again
          fail(ErrorCode::invalid_argument, not_our_table(describe(e)));
        }
        if (f == Failure::lock_timeout) {
          fail(ErrorCode::conflict,
               "lock wait timed out on table `" + config_.table + "`: " + describe(e));
        }
        fail(code_for(e), describe(e));
      } catch (const Error&) {
        pool_.release(std::move(c));  // raised before any statement was sent
        throw;
      } catch (...) {
        // bad_alloc or the like: the connection's state is unknown, so it is closed.
        c.reset();
        pool_.forget();
        throw;
      }
    }
  }

  const Config config_;
  const ClientTimeouts timeouts_;
  const std::array<std::string, kStmtCount> texts_;
  const std::string sweep_text_;
  Pool pool_;
  std::mutex schema_mutex_;
  std::atomic<bool> ready_{false};
  std::atomic<std::int64_t> max_packet_{0};
  std::atomic<std::int64_t> next_sweep_{0};
};

}  // namespace

namespace {

std::unique_ptr<Driver> open_checked(Url& url) {
  auto invalid = [&](const std::string& message) {
    throw Error(ErrorCode::invalid_argument, message + " in " + url.redacted(), kDriver, false);
  };
  if (!url.has_authority())
    invalid("a mysql URL needs '//': mysql://user:password@host:port/database");
  Config config;
  config.redacted_url = url.redacted();
  if (!url.host().empty()) config.host = url.host();
  if (url.port()) config.port = *url.port();
  config.user = url.user();
  config.password = url.password().value_or("");
  std::string path = url.path();
  if (!path.empty() && path.front() == '/') path.erase(0, 1);
  if (path.empty()) invalid("the database name is missing (mysql://host/database)");
  if (path.find('/') != std::string::npos) invalid("the path must be just the database name");
  // The server would refuse these only after a handshake, and with errors
  // that look like a broken server (1300 "Invalid utf8mb3 character string").
  if (!is_valid_utf8(path) || path.find('\0') != std::string::npos) {
    invalid("the database name must be valid UTF-8 without NUL bytes");
  }
  config.database = path;

  if (auto v = url.take("table")) {
    if (!valid_table_name(*v)) {
      invalid("table must be 1-64 characters of A-Z, a-z, 0-9 and _");
    }
    config.table = *v;
  }
  if (auto v = url.take_int("pool_size", 1, 1024)) config.pool_size = static_cast<std::size_t>(*v);
  auto positive = [&](const char* name, milliseconds* out) {
    if (auto v = url.take_duration(name, milliseconds(1), std::chrono::hours(1))) *out = *v;
  };
  positive("pool_timeout", &config.pool_timeout);
  positive("connect_timeout", &config.connect_timeout);
  positive("io_timeout", &config.io_timeout);
  positive("lock_timeout", &config.lock_timeout);
  if (auto v = url.take_duration("sweep_interval", milliseconds(0), std::chrono::hours(1))) {
    config.sweep_interval = *v;
  }
  if (auto v = url.take_int("sweep_batch", 1, 100000)) config.sweep_batch = *v;
  url.reject_unknown_params(kDriver);
  return std::make_unique<MysqlStore>(std::move(config));
}

}  // namespace

std::unique_ptr<Driver> open(Url& url) {
  try {
    return open_checked(url);
  } catch (const Error& e) {
    // Url::take_* cannot know which driver asked; the error names it here
    // too, not only when the store is opened through the registry.
    if (!e.driver().empty()) throw;
    throw Error(e.code(), e.message(), kDriver, e.retryable());
  }
}

}  // namespace kvstore::mysql
