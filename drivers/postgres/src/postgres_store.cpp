#include <kvstore/postgres.h>

#include <poll.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <libpq-fe.h>
#include <pqxx/pqxx>

#include <kvstore/error.h>

namespace kvstore::postgres {

namespace {

using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;

constexpr const char* kDriver = "postgres";
constexpr std::size_t kMaxIdentifierBytes = 63;  // NAMEDATALEN - 1: longer names are truncated
constexpr int kConflictRetries = 8;

struct Settings {
  std::string conninfo;  // libpq keyword/value string, password included: never shown
  std::string redacted_url;
  std::string schema;  // empty: the search_path decides
  std::string table;
  std::size_t pool_size = 8;
  std::chrono::milliseconds statement_timeout = 30s;
  std::chrono::milliseconds pool_timeout = 10s;
  std::chrono::milliseconds sweep_interval = 1s;
  std::int64_t sweep_batch = 500;
};

// The statement names every pooled connection prepares.
constexpr const char* kGet = "kv_get";
constexpr const char* kSet = "kv_set";
constexpr const char* kRemove = "kv_remove";
constexpr const char* kCreate = "kv_create";
constexpr const char* kReplace = "kv_replace";
constexpr const char* kDeleteIf = "kv_delete_if";
constexpr const char* kAbsent = "kv_absent";
constexpr const char* kList = "kv_list";
constexpr const char* kListOpen = "kv_list_open";
constexpr const char* kSweep = "kv_sweep";

// --- URL handling -----------------------------------------------------------

const std::set<std::string, std::less<>>& libpq_keywords() {
  static const std::set<std::string, std::less<>> keywords = [] {
    std::set<std::string, std::less<>> names;
    PQconninfoOption* options = PQconndefaults();
    if (options != nullptr) {
      for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) names.emplace(o->keyword);
      PQconninfoFree(options);
    }
    return names;
  }();
  return keywords;
}

void append_conninfo(std::string& out, std::string_view key, std::string_view value) {
  if (!out.empty()) out += ' ';
  out += key;
  out += "='";
  for (char c : value) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  out += '\'';
}

[[noreturn]] void bad_url(const std::string& message) {
  throw Error(ErrorCode::invalid_argument, message, kDriver, false);
}

// libpq's connect_timeout is whole seconds; ours also takes a unit.
std::chrono::milliseconds parse_connect_timeout(const std::string& text) {
  if (!text.empty() &&
      std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c) != 0; })) {
    if (text.size() > 9) bad_url("connect_timeout is too large");
    return std::chrono::seconds(std::stoll(text));
  }
  if (text.empty() || !std::all_of(text.begin(), text.end(),
                                   [](unsigned char c) { return std::isalnum(c) != 0; })) {
    bad_url("connect_timeout must be a duration such as 500ms or 5s");
  }
  Url scratch = Url::parse("postgres:?connect_timeout=" + text);
  return *scratch.take_duration("connect_timeout", 1ms, 1h);
}

void split_table(const std::string& name, Settings& settings) {
  auto check = [&](const std::string& part) {
    if (part.empty() || part.size() > kMaxIdentifierBytes || part.find('\0') != std::string::npos) {
      bad_url("table must be NAME or SCHEMA.NAME, each 1 to 63 bytes without NUL");
    }
  };
  std::size_t dot = name.find('.');
  if (dot == std::string::npos) {
    settings.table = name;
  } else {
    settings.schema = name.substr(0, dot);
    settings.table = name.substr(dot + 1);
    check(settings.schema);
    if (settings.table.find('.') != std::string::npos) {
      bad_url("table must be NAME or SCHEMA.NAME");
    }
  }
  check(settings.table);
}

Settings parse_settings(Url& url) {
  if (!url.has_authority()) bad_url("PostgreSQL URLs look like postgres://user@host:port/dbname");
  Settings s;
  s.redacted_url = url.redacted();
  split_table(url.take("table").value_or("kvstore"), s);
  if (auto v = url.take_int("pool_size", 1, 1024)) s.pool_size = static_cast<std::size_t>(*v);
  std::chrono::milliseconds connect_timeout = 10s;
  if (auto v = url.take("connect_timeout")) connect_timeout = parse_connect_timeout(*v);
  if (auto v = url.take_duration("statement_timeout", 0ms, 1h)) s.statement_timeout = *v;
  if (auto v = url.take_duration("pool_timeout", 1ms, 1h)) s.pool_timeout = *v;
  if (auto v = url.take_duration("sweep_interval", 0ms, 1h)) s.sweep_interval = *v;
  if (auto v = url.take_int("sweep_batch", 1, 100000)) s.sweep_batch = *v;

  std::string& ci = s.conninfo;
  if (!url.host().empty()) append_conninfo(ci, "host", url.host());
  if (url.port()) append_conninfo(ci, "port", std::to_string(*url.port()));
  if (!url.user().empty()) append_conninfo(ci, "user", url.user());
  if (url.password()) append_conninfo(ci, "password", *url.password());
  if (url.path().size() > 1) append_conninfo(ci, "dbname", url.path().substr(1));
  append_conninfo(ci, "application_name", "kvstore");
  // Copy: taking parameters changes remaining_params().
  const auto params = url.remaining_params();
  for (const auto& [name, value] : params) {
    if (libpq_keywords().count(name) == 0) continue;  // left for reject_unknown_params
    url.take(name);
    if (name == "client_encoding") {
      std::string upper;
      for (char c : value) upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      if (upper != "UTF8" && upper != "UTF-8") bad_url("client_encoding must be UTF8");
    }
    append_conninfo(ci, name, value);  // later keywords override earlier ones
  }
  url.reject_unknown_params(kDriver);
  if (connect_timeout > 0ms) {
    auto seconds = std::chrono::ceil<std::chrono::seconds>(connect_timeout).count();
    append_conninfo(ci, "connect_timeout", std::to_string(seconds));
  }
  append_conninfo(ci, "client_encoding", "UTF8");
  return s;
}

// --- Errors -----------------------------------------------------------------

bool starts_with(const std::string& s, std::string_view prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

bool contains(const std::string& s, std::string_view part) {
  return s.find(part) != std::string::npos;
}

// SQLSTATEs meaning the session is gone or the server is going away.
bool is_connection_state(const std::string& state) {
  return starts_with(state, "08") || state == "57P01" || state == "57P02" || state == "57P03" ||
         state == "53300";
}

ErrorCode code_for_sqlstate(const std::string& state) {
  if (state == "57014" || state == "55P03") return ErrorCode::timeout;  // canceled, lock timeout
  if (is_connection_state(state)) return ErrorCode::unavailable;
  if (starts_with(state, "40")) return ErrorCode::conflict;
  if (starts_with(state, "28") || state == "42501" || state == "25006") {
    return ErrorCode::permission_denied;
  }
  if (state == "54000") return ErrorCode::limit_exceeded;
  return ErrorCode::internal;
}

std::string first_line(const char* what) {
  std::string text(what);
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

// --- Connections ------------------------------------------------------------

struct Connection {
  explicit Connection(const std::string& conninfo) : db(conninfo) {}
  pqxx::connection db;
};

// An idle connection whose socket is readable has been told something
// unsolicited: with no LISTEN in use that is the server's goodbye (a FATAL
// admin shutdown) or EOF, so the connection is dead.
bool looks_alive(Connection& c) {
  if (!c.db.is_open()) return false;
  int fd = c.db.sock();
  if (fd < 0) return false;
  pollfd p{fd, POLLIN, 0};
  int n = ::poll(&p, 1, 0);
  return n == 0;
}

class PostgresStore;

// A connection borrowed from the pool for one call.
class Lease {
 public:
  Lease(PostgresStore& store, std::unique_ptr<Connection> c) : store_(&store), c_(std::move(c)) {}
  Lease(Lease&& other) noexcept
      : store_(std::exchange(other.store_, nullptr)), c_(std::move(other.c_)) {}
  Lease& operator=(Lease&&) = delete;
  ~Lease();
  Connection& operator*() { return *c_; }
  Connection* operator->() { return c_.get(); }
  // Closes the connection instead of returning it to the pool.
  void discard() { c_.reset(); }

 private:
  PostgresStore* store_;
  std::unique_ptr<Connection> c_;
};

class PostgresStore final : public KvStore {
 public:
  explicit PostgresStore(Settings settings)
      : KvStore(kDriver, Capabilities{/*persistent=*/true, /*shared=*/true,
                                      /*server_clock=*/true}),
        s_(std::move(settings)) {}

  ~PostgresStore() override = default;

  void give_back(std::unique_ptr<Connection> c) {
    {
      std::lock_guard lock(pool_mutex_);
      if (c && c->db.is_open()) {
        idle_.push_back(std::move(c));
      } else {
        --open_;
      }
    }
    pool_cv_.notify_one();
    // A broken connection is closed here, outside the lock.
  }

 protected:
  std::optional<std::string> do_get(const std::string& key) override {
    return run(true, [&](pqxx::nontransaction& tx) -> std::optional<std::string> {
      pqxx::result r = tx.exec_prepared(kGet, key);
      if (r.empty()) return std::nullopt;
      const pqxx::field f = r[0][0];
      return std::string(f.c_str(), f.size());
    });
  }

  void do_set(const std::string& key, std::string_view json, Ttl ttl) override {
    std::string value(json);
    run(
        true,
        [&](pqxx::nontransaction& tx) {
          if (ttl) {
            tx.exec_prepared(kSet, key, value, static_cast<std::int64_t>(ttl->count()));
          } else {
            tx.exec_prepared(kSet, key, value, nullptr);
          }
          return 0;
        },
        /*write=*/true);
  }

  void do_remove(const std::string& key) override {
    run(true, [&](pqxx::nontransaction& tx) {
      tx.exec_prepared(kRemove, key);
      return 0;
    });
  }

  // Each case is one statement, atomic under READ COMMITTED (the session's
  // isolation level is forced to it): UPDATE/DELETE re-check their WHERE on
  // the newest row version after waiting for a concurrent writer, and
  // INSERT ... ON CONFLICT either inserts or locks the existing row.
  bool do_swap(const std::string& key, std::optional<std::string_view> expected,
               std::optional<std::string_view> desired, Ttl ttl) override {
    std::string want = desired ? std::string(*desired) : std::string();
    std::string have = expected ? std::string(*expected) : std::string();
    auto ttl_param = [&]() -> std::optional<std::int64_t> {
      if (ttl) return static_cast<std::int64_t>(ttl->count());
      return std::nullopt;
    };
    return run(
        false,
        [&](pqxx::nontransaction& tx) {
          pqxx::result r;
          if (!expected && !desired) {
            r = tx.exec_prepared(kAbsent, key);
            return r[0][0].as<bool>();
          }
          const std::optional<std::int64_t> t = ttl_param();
          if (!expected) {
            r = t ? tx.exec_prepared(kCreate, key, want, *t)
                  : tx.exec_prepared(kCreate, key, want, nullptr);
          } else if (desired) {
            r = t ? tx.exec_prepared(kReplace, key, have, want, *t)
                  : tx.exec_prepared(kReplace, key, have, want, nullptr);
          } else {
            r = tx.exec_prepared(kDeleteIf, key, have);
          }
          return r.affected_rows() == 1;
        },
        /*write=*/desired.has_value());
  }

  std::vector<StoredEntry> do_list(const KeyRange& range, std::size_t limit) override {
    return run(true, [&](pqxx::nontransaction& tx) {
      const auto n = static_cast<std::int64_t>(limit);
      pqxx::result r = range.end ? tx.exec_prepared(kList, range.begin, *range.end, n)
                                 : tx.exec_prepared(kListOpen, range.begin, n);
      std::vector<StoredEntry> page;
      page.reserve(r.size());
      for (const pqxx::row& row : r) {
        page.push_back({std::string(row[0].c_str(), row[0].size()),
                        std::string(row[1].c_str(), row[1].size())});
      }
      return page;
    });
  }

 private:
  // Runs `body` in a single-statement, autocommit transaction on a pooled
  // connection and maps failures to kvstore errors. A connection that broke
  // is dropped; `idempotent` calls are then retried once on a fresh one
  // (a server restart is invisible to them). Serialization failures never
  // applied anything, so every call retries those.
  template <class Body>
  std::invoke_result_t<Body&, pqxx::nontransaction&> run(bool idempotent, Body&& body,
                                                         bool write = false) {
    bool retried_broken = false;
    for (int attempt = 0;; ++attempt) {
      Lease lease = acquire();
      std::string state;
      std::string message;
      bool broken = false;
      try {
        auto result = [&] {
          pqxx::nontransaction tx(lease->db);
          return body(tx);
        }();
        if (write) maybe_sweep(lease);
        return result;
      } catch (const pqxx::broken_connection& e) {
        broken = true;
        message = first_line(e.what());
      } catch (const pqxx::sql_error& e) {
        state = e.sqlstate();
        message = first_line(e.what());
        broken = is_connection_state(state);
      } catch (const pqxx::serialization_failure& e) {
        state = "40001";
        message = first_line(e.what());
      } catch (const pqxx::deadlock_detected& e) {
        state = "40P01";
        message = first_line(e.what());
      } catch (const pqxx::statement_completion_unknown& e) {
        broken = true;
        message = "outcome unknown, the connection broke: " + first_line(e.what());
      } catch (const pqxx::failure& e) {
        message = first_line(e.what());
      }
      if (broken || !lease->db.is_open()) {
        lease.discard();
        broken = true;
      }
      if (broken) {
        if (idempotent && !retried_broken) {
          retried_broken = true;
          continue;
        }
        fail(ErrorCode::unavailable, "lost the connection to " + s_.redacted_url + ": " + message);
      }
      if (starts_with(state, "40") && attempt < kConflictRetries) continue;
      if (state == "42P01" && attempt == 0) {
        // The table was dropped behind our back: create it again and retry.
        schema_ready_.store(false);
        try {
          ensure_schema(*lease);
          continue;
        } catch (const pqxx::failure&) {
        }
      }
      fail(state.empty() ? ErrorCode::internal : code_for_sqlstate(state),
           message + (state.empty() ? "" : " (SQLSTATE " + state + ")"));
    }
  }

  Lease acquire() {
    const auto deadline = SteadyClock::now() + s_.pool_timeout;
    std::unique_lock lock(pool_mutex_);
    for (;;) {
      while (!idle_.empty()) {
        std::unique_ptr<Connection> c = std::move(idle_.back());
        idle_.pop_back();
        if (looks_alive(*c)) return Lease(*this, std::move(c));
        --open_;
        lock.unlock();
        c.reset();  // closing a dead connection needs no lock
        lock.lock();
      }
      if (open_ < s_.pool_size) {
        ++open_;
        lock.unlock();
        try {
          return Lease(*this, connect());
        } catch (...) {
          lock.lock();
          --open_;
          lock.unlock();
          pool_cv_.notify_one();
          throw;
        }
      }
      if (pool_cv_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() &&
          open_ >= s_.pool_size) {
        fail(ErrorCode::timeout, "no pooled connection became free within pool_timeout (" +
                                     std::to_string(s_.pool_timeout.count()) + "ms)");
      }
    }
  }

  std::unique_ptr<Connection> connect() {
    std::unique_ptr<Connection> c;
    try {
      c = std::make_unique<Connection>(s_.conninfo);
      {
        // One round trip: quiet notices; READ COMMITTED whatever the
        // database's default, because the cas statements rely on it; and
        // generic plans, which are ordered primary-key walks for every
        // statement (custom plans cost planning time on each call and, with
        // kvstore's 0x01 separators skewing the estimates, can sort a
        // bitmap scan of the whole prefix instead of stopping at LIMIT).
        pqxx::nontransaction tx(c->db);
        tx.exec(
            "SET client_min_messages = warning; "
            "SET default_transaction_isolation = 'read committed'; "
            "SET plan_cache_mode = force_generic_plan; "
            "SET statement_timeout = " +
            std::to_string(s_.statement_timeout.count()));
      }
      ensure_schema(*c);
      for (const auto& [name, sql] : statements_) c->db.prepare(name, sql);
    } catch (const pqxx::broken_connection& e) {
      std::string message = first_line(e.what());
      if (contains(message, "authentication failed") || contains(message, "pg_hba.conf") ||
          contains(message, "does not exist") || contains(message, "permission denied")) {
        fail(ErrorCode::permission_denied, "cannot connect to " + s_.redacted_url + ": " + message);
      }
      fail(ErrorCode::unavailable, "cannot connect to " + s_.redacted_url + ": " + message);
    } catch (const pqxx::sql_error& e) {
      fail(code_for_sqlstate(e.sqlstate()), "preparing " + s_.redacted_url + ": " +
                                                first_line(e.what()) + " (SQLSTATE " +
                                                e.sqlstate() + ")");
    } catch (const pqxx::failure& e) {
      fail(ErrorCode::unavailable,
           "cannot connect to " + s_.redacted_url + ": " + first_line(e.what()));
    }
    return c;
  }

  // Creates the table and index once per store. Concurrent CREATE ... IF NOT
  // EXISTS can still collide in the catalogs, so creators take an advisory
  // lock named after the table first.
  void ensure_schema(Connection& c) {
    std::lock_guard lock(schema_mutex_);
    if (statements_.empty()) build_statements(c);
    if (schema_ready_.load()) return;
    pqxx::work tx(c.db);
    tx.exec("SELECT pg_advisory_xact_lock(hashtextextended(" + tx.quote("kvstore:" + qualified_) +
            ", 0))");
    tx.exec("CREATE TABLE IF NOT EXISTS " + qualified_ +
            " (k text COLLATE \"C\" PRIMARY KEY,"
            " v text COLLATE \"C\" NOT NULL,"
            " expires_at timestamptz)");
    tx.exec("CREATE INDEX IF NOT EXISTS " + c.db.quote_name(index_name()) + " ON " + qualified_ +
            " (expires_at) WHERE expires_at IS NOT NULL");
    tx.commit();
    schema_ready_.store(true);
  }

  // "<table>_expires_idx", shortened with a hash when the table name is long
  // (PostgreSQL would truncate it and two tables could then collide).
  std::string index_name() const {
    std::string name = s_.table + "_expires_idx";
    if (name.size() <= kMaxIdentifierBytes) return name;
    char hash[17];
    std::snprintf(hash, sizeof hash, "%016llx",
                  static_cast<unsigned long long>(std::hash<std::string>{}(s_.table)));
    return s_.table.substr(0, 30) + "_" + hash + "_exp";
  }

  void build_statements(Connection& c) {
    qualified_ =
        (s_.schema.empty() ? "" : c.db.quote_name(s_.schema) + ".") + c.db.quote_name(s_.table);
    const std::string& t = qualified_;
    const std::string live = "(expires_at IS NULL OR expires_at > now())";
    const std::string expiry = "now() + $3::bigint * interval '1 millisecond'";
    statements_ = {
        {kGet, "SELECT v FROM " + t + " WHERE k = $1 AND " + live},
        {kSet, "INSERT INTO " + t + " AS cur (k, v, expires_at) VALUES ($1, $2, " + expiry +
                   ") ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v,"
                   " expires_at = EXCLUDED.expires_at"},
        {kRemove, "DELETE FROM " + t + " WHERE k = $1"},
        // Writes only over an expired row; returns no row when a live one exists.
        {kCreate, "INSERT INTO " + t + " AS cur (k, v, expires_at) VALUES ($1, $2, " + expiry +
                      ") ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v,"
                      " expires_at = EXCLUDED.expires_at WHERE cur.expires_at <= now()"},
        {kReplace, "UPDATE " + t +
                       " SET v = $3, expires_at = now() + $4::bigint * interval"
                       " '1 millisecond' WHERE k = $1 AND v = $2 AND " +
                       live},
        {kDeleteIf, "DELETE FROM " + t + " WHERE k = $1 AND v = $2 AND " + live},
        {kAbsent, "SELECT NOT EXISTS (SELECT 1 FROM " + t + " WHERE k = $1 AND " + live + ")"},
        {kList, "SELECT k, v FROM " + t + " WHERE k >= $1 AND k < $2 AND " + live +
                    " ORDER BY k LIMIT $3"},
        {kListOpen,
         "SELECT k, v FROM " + t + " WHERE k >= $1 AND " + live + " ORDER BY k LIMIT $2"},
        // The inner SELECT walks the partial expiry index; the outer
        // condition re-checks rows a concurrent write just made live again.
        {kSweep, "DELETE FROM " + t + " WHERE k IN (SELECT k FROM " + t +
                     " WHERE expires_at <= now() ORDER BY expires_at LIMIT $1"
                     " FOR UPDATE SKIP LOCKED) AND expires_at <= now()"},
    };
  }

  // Piggy-backs one bounded, index-driven batch delete of expired rows on a
  // write, at most once per sweep_interval per store (sooner while a full
  // batch keeps coming back). Failures here never fail the write.
  void maybe_sweep(Lease& lease) {
    if (s_.sweep_interval <= 0ms) return;
    const std::int64_t now = SteadyClock::now().time_since_epoch().count();
    std::int64_t due = next_sweep_.load(std::memory_order_relaxed);
    if (now < due) return;
    const std::int64_t later =
        now + std::chrono::duration_cast<SteadyClock::duration>(s_.sweep_interval).count();
    if (!next_sweep_.compare_exchange_strong(due, later)) return;  // another thread sweeps
    try {
      pqxx::nontransaction tx(lease->db);
      pqxx::result r = tx.exec_prepared(kSweep, s_.sweep_batch);
      if (static_cast<std::int64_t>(r.affected_rows()) >= s_.sweep_batch) {
        next_sweep_.store(now, std::memory_order_relaxed);  // backlog: sweep again next write
      }
    } catch (const pqxx::failure&) {
      if (!lease->db.is_open()) lease.discard();
    }
  }

  const Settings s_;

  std::mutex pool_mutex_;
  std::condition_variable pool_cv_;
  std::vector<std::unique_ptr<Connection>> idle_;
  std::size_t open_ = 0;  // idle + leased + being connected

  std::mutex schema_mutex_;
  std::atomic<bool> schema_ready_{false};
  std::string qualified_;  // quoted [schema.]table, set once under schema_mutex_
  std::vector<std::pair<std::string, std::string>> statements_;

  std::atomic<std::int64_t> next_sweep_{0};
};

Lease::~Lease() {
  if (store_ != nullptr) store_->give_back(std::move(c_));  // null after discard(): frees a slot
}

}  // namespace

std::unique_ptr<KvStore> open(Url& url) {
  Settings settings;
  try {
    settings = parse_settings(url);
  } catch (const Error& e) {
    if (!e.driver().empty()) throw;
    throw Error(e.code(), e.message(), kDriver, e.retryable());  // Url's own errors
  }
  return std::make_unique<PostgresStore>(std::move(settings));
}

}  // namespace kvstore::postgres
