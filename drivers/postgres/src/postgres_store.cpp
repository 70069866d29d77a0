#include <kvstore/postgres.h>

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <limits>
#include <mutex>
#include <new>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include <libpq-fe.h>
#include <pqxx/pqxx>

#include <kvstore/deadline.h>
#include <kvstore/driver.h>
#include <kvstore/key.h>

namespace kvstore::postgres {

namespace {

using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;
using TimePoint = SteadyClock::time_point;

constexpr const char* kDriver = "postgres";
constexpr std::size_t kMaxIdentifierBytes = 63;  // NAMEDATALEN - 1: longer names are truncated
constexpr int kConflictRetries = 8;

struct Settings {
  std::string conninfo;  // libpq keyword/value string, password included: never shown
  std::string redacted_url;
  std::string schema;  // empty: the search_path decides
  std::string table;
  std::size_t pool_size = 8;
  std::chrono::milliseconds connect_timeout = 10s;
  std::chrono::milliseconds command_timeout = 10s;
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

// libpq's connect_timeout is whole seconds; ours also takes a unit. Either
// way it must lie in 1ms..1h like every other duration: "0" (libpq's "wait
// forever") would let a call hang.
std::chrono::milliseconds parse_connect_timeout(const std::string& text) {
  if (text.empty() || !std::all_of(text.begin(), text.end(),
                                   [](unsigned char c) { return std::isalnum(c) != 0; })) {
    bad_url(
        "connect_timeout must be a duration from 1ms to 1h, e.g. 500ms or 5s"
        " (a bare number is seconds)");
  }
  const bool seconds =
      std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c) != 0; });
  Url scratch = Url::parse("postgres:?connect_timeout=" + text + (seconds ? "s" : ""));
  return *scratch.take_duration("connect_timeout", 1ms, 1h);
}

// PostgreSQL identifiers are UTF-8 text of at most NAMEDATALEN - 1 bytes (it
// would silently truncate longer ones): anything else can only fail on the
// server, so it is rejected here, before any I/O.
void check_identifier(const std::string& part) {
  if (part.empty() || part.size() > kMaxIdentifierBytes || part.find('\0') != std::string::npos ||
      !is_valid_utf8(part)) {
    bad_url("table must be NAME or SCHEMA.NAME, each 1 to 63 bytes of UTF-8 without NUL");
  }
}

void split_table(const std::string& name, Settings& settings) {
  std::size_t dot = name.find('.');
  if (dot == std::string::npos) {
    settings.table = name;
  } else {
    settings.schema = name.substr(0, dot);
    settings.table = name.substr(dot + 1);
    check_identifier(settings.schema);
    if (settings.table.find('.') != std::string::npos) {
      bad_url("table must be NAME or SCHEMA.NAME");
    }
  }
  check_identifier(settings.table);
}

Settings parse_settings(Url& url) {
  if (!url.has_authority()) bad_url("PostgreSQL URLs look like postgres://user@host:port/dbname");
  Settings s;
  s.redacted_url = url.redacted();
  split_table(url.take("table").value_or("kvstore"), s);
  if (auto v = url.take_int("pool_size", 1, 1024)) s.pool_size = static_cast<std::size_t>(*v);
  if (auto v = url.take("connect_timeout")) s.connect_timeout = parse_connect_timeout(*v);
  if (auto v = url.take_duration("command_timeout", 1ms, 1h)) s.command_timeout = *v;
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
    if (value.find('\0') != std::string::npos) bad_url(name + " must not contain a NUL byte");
    if (name == "client_encoding") {
      std::string upper;
      for (char c : value) upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      if (upper != "UTF8" && upper != "UTF-8") bad_url("client_encoding must be UTF8");
    }
    append_conninfo(ci, name, value);  // later keywords override earlier ones
  }
  url.reject_unknown_params(kDriver);
  // No libpq connect_timeout: the driver connects with PQconnectPoll against
  // its own deadline, exact to the millisecond and across all addresses.
  append_conninfo(ci, "client_encoding", "UTF8");
  return s;
}

// --- Errors -----------------------------------------------------------------

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

bool contains(std::string_view s, std::string_view part) {
  return s.find(part) != std::string_view::npos;
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

// The first line of a libpq message without its "ERROR:  " tag: the lines
// after it repeat the statement with a "LINE 1:" pointer (several times when
// libpqxx adds its own copy), which says nothing the first line does not.
std::string first_line(std::string_view text) {
  std::string line(text.substr(0, text.find('\n')));
  while (!line.empty() && (line.back() == ' ' || line.back() == '\r' || line.back() == '\t')) {
    line.pop_back();
  }
  for (std::string_view tag : {"ERROR:  ", "FATAL:  "}) {
    if (starts_with(line, tag)) line.erase(0, tag.size());
  }
  return line;
}

// " (SQLSTATE 42P01)", or nothing when there is no state to show.
std::string state_suffix(const std::string& state) {
  return state.empty() ? std::string() : " (SQLSTATE " + state + ")";
}

std::string millis(TimePoint since) {
  return std::to_string(
             std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - since)
                 .count()) +
         "ms";
}

// What libpq said about a failed connection attempt, made with
// PQERRORS_VERBOSE so that a refusal by the server carries its SQLSTATE
// ("... failed: FATAL:  28P01: password authentication failed ..."): the
// line with the server's error (or the first line), without the state.
struct ConnectMessage {
  std::string text;
  std::string state;
};

ConnectMessage parse_connect_message(std::string_view raw) {
  ConnectMessage m;
  std::string_view rest = raw;
  while (!rest.empty()) {
    const std::size_t end = rest.find('\n');
    std::string_view line = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
    for (std::string_view tag : {"FATAL:  ", "ERROR:  ", "PANIC:  "}) {
      const std::size_t at = line.find(tag);
      if (at == std::string_view::npos) continue;
      std::string_view state = line.substr(at + tag.size(), 7);
      if (state.size() == 7 && state.substr(5) == ": " &&
          std::all_of(state.begin(), state.begin() + 5, [](unsigned char c) {
            return std::isdigit(c) != 0 || std::isupper(c) != 0;
          })) {
        m.state = std::string(state.substr(0, 5));
        m.text = first_line(std::string(line.substr(0, at + tag.size())) +
                            std::string(line.substr(at + tag.size() + 7)));
        return m;
      }
    }
  }
  m.text = first_line(raw);
  return m;
}

// Connection failures are retryable only when they are the network's or the
// server's state; a refusal of what the URL asked for never is.
ErrorCode code_for_connect_failure(const ConnectMessage& m) {
  const std::string& state = m.state;
  if (!state.empty()) {
    // 3D000: unknown database, documented with unknown roles.
    if (starts_with(state, "28") || state == "42501" || state == "3D000") {
      return ErrorCode::permission_denied;
    }
    if (is_connection_state(state) || starts_with(state, "53") || starts_with(state, "57")) {
      return ErrorCode::unavailable;
    }
    // The server rejected the startup options or parameters it was sent
    // (options=-c..., an unknown setting, a bad value): configuration.
    return ErrorCode::invalid_argument;
  }
  // libpq's own checks of the connection options ("invalid sslmode value",
  // "invalid integer value ... for connection option", a missing
  // certificate file, SSL required by the URL but not offered).
  for (std::string_view marker :
       {"invalid ", "could not match", "missing \"=\"", "unterminated quoted string",
        "not compiled in", "was required", "certificate file", "does not support SSL"}) {
    if (contains(m.text, marker)) return ErrorCode::invalid_argument;
  }
  return ErrorCode::unavailable;
}

// Thrown by the connection policy; converted to Error by the store, which
// knows the URL to name.
class ConnectFailure : public std::runtime_error {
 public:
  ConnectFailure(ErrorCode code, const std::string& message)
      : std::runtime_error(message), code_(code) {}
  ErrorCode code() const noexcept { return code_; }

 private:
  ErrorCode code_;
};

// --- Connecting within a deadline -------------------------------------------

// libpq's blocking connect counts its connect_timeout in whole seconds per
// address (1 s becomes 2 s, and localhost has two addresses), so the driver
// connects with the non-blocking API against its own deadline instead.
PGconn* connect_until(const std::string& conninfo, TimePoint deadline,
                      std::chrono::milliseconds budget) {
  const TimePoint started = SteadyClock::now();
  PGconn* c = PQconnectStart(conninfo.c_str());
  if (c == nullptr) throw std::bad_alloc();
  PQsetErrorVerbosity(c, PQERRORS_VERBOSE);
  PostgresPollingStatusType status =
      PQstatus(c) == CONNECTION_BAD ? PGRES_POLLING_FAILED : PGRES_POLLING_WRITING;
  while (status != PGRES_POLLING_OK) {
    if (status == PGRES_POLLING_FAILED) {
      const ConnectMessage m = parse_connect_message(PQerrorMessage(c));
      PQfinish(c);
      throw ConnectFailure(code_for_connect_failure(m), m.text + state_suffix(m.state));
    }
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - SteadyClock::now());
    if (left <= 0ms) {
      PQfinish(c);
      throw ConnectFailure(ErrorCode::unavailable, "timed out after " + millis(started) +
                                                       " (connect_timeout " +
                                                       format_duration(budget) + ")");
    }
    pollfd p{PQsocket(c), static_cast<short>(status == PGRES_POLLING_READING ? POLLIN : POLLOUT),
             0};
    const int n = ::poll(&p, 1, static_cast<int>(std::min<std::int64_t>(left.count(), 60000)));
    if (n == 0 || (n < 0 && errno == EINTR)) continue;
    status = PQconnectPoll(c);
  }
  PQsetErrorVerbosity(c, PQERRORS_DEFAULT);
  return c;
}

// The deadline of the connection being opened on this thread. libpqxx builds
// the policy from the option string alone, so this is how it gets there.
thread_local TimePoint t_connect_deadline;
thread_local std::chrono::milliseconds t_connect_budget;
thread_local PGconn* t_connected = nullptr;

class BoundedConnect final : public pqxx::connectionpolicy {
 public:
  explicit BoundedConnect(const std::string& options) : pqxx::connectionpolicy(options) {}
  handle do_startconnect(handle orig) override {
    t_connected =
        orig != nullptr ? orig : connect_until(options(), t_connect_deadline, t_connect_budget);
    return t_connected;
  }
};

// --- Bounding each statement ------------------------------------------------

// Ends statements that overrun their deadline. libpq waits for a reply in
// poll() without a timeout, statement_timeout needs a server that runs, and
// TCP keepalives or TCP_USER_TIMEOUT never fire against a stopped process
// whose kernel still acknowledges. shutdown() (not close(): the descriptor is
// still libpq's) makes libpq's wait return at once with a broken connection,
// which the caller then discards.
class Watchdog {
 public:
  struct Watch {
    int fd;
    TimePoint deadline;
    bool fired = false;  // written under the watchdog's lock; read after disarm()
  };

  Watchdog() : thread_([this] { loop(); }) {}
  ~Watchdog() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    cv_.notify_one();
    thread_.join();
  }
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

  void arm(Watch& w) {
    bool sooner;
    {
      std::lock_guard lock(mutex_);
      watches_.push_back(&w);
      sooner = w.deadline < wake_at_;
    }
    if (sooner) cv_.notify_one();  // rare: deadlines mostly come in order
  }

  // Once this returns the watchdog no longer touches `w` or its socket, so
  // the connection may be closed (and its descriptor number reused).
  void disarm(Watch& w) {
    std::lock_guard lock(mutex_);
    watches_.erase(std::find(watches_.begin(), watches_.end(), &w));
  }

 private:
  void loop() {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
      const TimePoint now = SteadyClock::now();
      wake_at_ = TimePoint::max();
      for (Watch* w : watches_) {
        if (w->fired) continue;
        if (w->deadline <= now) {
          ::shutdown(w->fd, SHUT_RDWR);
          w->fired = true;
        } else {
          wake_at_ = std::min(wake_at_, w->deadline);
        }
      }
      if (wake_at_ == TimePoint::max()) {
        cv_.wait(lock);
      } else {
        cv_.wait_until(lock, wake_at_);
      }
    }
  }

  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<Watch*> watches_;
  TimePoint wake_at_ = TimePoint::max();
  bool stopping_ = false;
  std::thread thread_;  // last: it starts in the constructor and reads the members above
};

// Arms a watch for its lifetime.
class Watched {
 public:
  Watched(Watchdog& dog, Watchdog::Watch& w) : dog_(dog), w_(w) { dog_.arm(w_); }
  ~Watched() { dog_.disarm(w_); }
  Watched(const Watched&) = delete;
  Watched& operator=(const Watched&) = delete;

 private:
  Watchdog& dog_;
  Watchdog::Watch& w_;
};

// --- Statements -------------------------------------------------------------

// Statements go to libpq directly: libpqxx 6.4 leaks the PGresult of a
// statement whose connection broke (it asks the dead connection for its
// encoding before taking ownership), and the watchdog breaks connections on
// purpose.
using Result = std::unique_ptr<PGresult, void (*)(PGresult*)>;

class SqlError : public std::runtime_error {
 public:
  SqlError(const std::string& message, std::string state, bool broken)
      : std::runtime_error(message), state_(std::move(state)), broken_(broken) {}
  const std::string& state() const noexcept { return state_; }
  // The connection is gone: whether the statement ran is unknown.
  bool broken() const noexcept { return broken_; }

 private:
  std::string state_;
  bool broken_;
};

Result checked(PGconn* c, PGresult* raw) {
  Result r(raw, PQclear);
  const ExecStatusType status = raw != nullptr ? PQresultStatus(raw) : PGRES_FATAL_ERROR;
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return r;
  const char* state = raw != nullptr ? PQresultErrorField(raw, PG_DIAG_SQLSTATE) : nullptr;
  const char* text = raw != nullptr ? PQresultErrorField(raw, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
  std::string message = text != nullptr ? std::string(text) : first_line(PQerrorMessage(c));
  if (message.empty()) message = "the connection broke";
  throw SqlError(message, state != nullptr ? state : "", PQstatus(c) != CONNECTION_OK);
}

Result exec(PGconn* c, const std::string& sql) { return checked(c, PQexec(c, sql.c_str())); }

// Text parameters; nullptr is SQL NULL. Keys and JSON text never hold NUL.
Result exec_prepared(PGconn* c, const char* name, std::initializer_list<const char*> params) {
  return checked(c, PQexecPrepared(c, name, static_cast<int>(params.size()), params.begin(),
                                   nullptr, nullptr, 0));
}

std::string text_at(const Result& r, int row, int column) {
  return std::string(PQgetvalue(r.get(), row, column),
                     static_cast<std::size_t>(PQgetlength(r.get(), row, column)));
}

std::int64_t affected_rows(const Result& r) {
  const char* n = PQcmdTuples(r.get());
  return *n == '\0' ? 0 : std::stoll(n);
}

// --- Connections ------------------------------------------------------------

using PgConnection = pqxx::basic_connection_base<BoundedConnect>;

struct Connection {
  explicit Connection(const std::string& conninfo) : db(conninfo), raw(t_connected) {
    // libpqxx would otherwise reconnect a broken connection silently, without
    // our deadline and without the session settings made in connect().
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    db.inhibit_reactivation(true);
#pragma GCC diagnostic pop
  }
  PgConnection db;  // owns the connection (PQfinish) and quotes names
  PGconn* raw;      // db's handle, which statements use directly
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

// A pool slot borrowed for one call: a connection, or (while empty) the
// right to open one.
class Lease {
 public:
  Lease(PostgresStore& store, std::unique_ptr<Connection> c) : store_(&store), c_(std::move(c)) {}
  Lease(Lease&& other) noexcept
      : store_(std::exchange(other.store_, nullptr)), c_(std::move(other.c_)) {}
  Lease& operator=(Lease&&) = delete;
  ~Lease();
  explicit operator bool() const { return c_ != nullptr; }
  void attach(std::unique_ptr<Connection> c) { c_ = std::move(c); }
  Connection& operator*() { return *c_; }
  Connection* operator->() { return c_.get(); }
  // Closes the connection instead of returning it to the pool.
  void discard() { c_.reset(); }

 private:
  PostgresStore* store_;
  std::unique_ptr<Connection> c_;
};

enum class Call {
  read,   // changes nothing: retried once on a fresh connection if the old one broke
  write,  // never resent once it may have reached the server
};

class PostgresStore final : public Driver {
 public:
  explicit PostgresStore(Settings settings)
      : Driver(kDriver, Capabilities{/*persistent=*/true, /*shared=*/true,
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
    return run(Call::read, [&](PGconn* c) -> std::optional<std::string> {
      const Result r = exec_prepared(c, kGet, {key.c_str()});
      if (PQntuples(r.get()) == 0) return std::nullopt;
      return text_at(r, 0, 0);
    });
  }

  void do_set(const std::string& key, std::string_view json, Ttl ttl) override {
    std::string value(json);
    run(
        Call::write,
        [&](PGconn* c) {
          const std::string t = ttl ? std::to_string(ttl->count()) : std::string();
          exec_prepared(c, kSet, {key.c_str(), value.c_str(), ttl ? t.c_str() : nullptr});
          return 0;
        },
        /*sweep=*/true);
  }

  void do_remove(const std::string& key) override {
    run(Call::write, [&](PGconn* c) {
      exec_prepared(c, kRemove, {key.c_str()});
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
    const std::string t = ttl ? std::to_string(ttl->count()) : std::string();
    const char* ttl_param = ttl ? t.c_str() : nullptr;
    return run(
        !expected && !desired ? Call::read : Call::write,
        [&](PGconn* c) {
          if (!expected && !desired) {
            const Result r = exec_prepared(c, kAbsent, {key.c_str()});
            return text_at(r, 0, 0) == "t";
          }
          Result r(nullptr, PQclear);
          if (!expected) {
            r = exec_prepared(c, kCreate, {key.c_str(), want.c_str(), ttl_param});
          } else if (desired) {
            r = exec_prepared(c, kReplace, {key.c_str(), have.c_str(), want.c_str(), ttl_param});
          } else {
            r = exec_prepared(c, kDeleteIf, {key.c_str(), have.c_str()});
          }
          return affected_rows(r) == 1;
        },
        /*sweep=*/desired.has_value());
  }

  std::vector<StoredEntry> do_list(const KeyRange& range, std::size_t limit) override {
    return run(Call::read, [&](PGconn* c) {
      const std::string n = std::to_string(limit);
      const Result r =
          range.end ? exec_prepared(c, kList, {range.begin.c_str(), range.end->c_str(), n.c_str()})
                    : exec_prepared(c, kListOpen, {range.begin.c_str(), n.c_str()});
      const int rows = PQntuples(r.get());
      std::vector<StoredEntry> page;
      page.reserve(static_cast<std::size_t>(rows));
      for (int i = 0; i < rows; ++i) page.push_back({text_at(r, i, 0), text_at(r, i, 1)});
      return page;
    });
  }

 private:
  // Runs `body` in a single-statement, autocommit transaction on a pooled
  // connection and maps failures to kvstore errors.
  //
  // Once the pool grants a slot, the call has connect_timeout +
  // command_timeout in all: connecting gets at most connect_timeout, and the
  // statements at most command_timeout, enforced by the watchdog whatever
  // the server does. A connection that broke or was cut is dropped; a read
  // is then retried once on a fresh one within what is left (a server
  // restart is invisible to it), a write is not: it may have been applied.
  // Serialization failures and a dropped table never applied anything, so
  // every call retries those.
  template <class Body>
  std::invoke_result_t<Body&, PGconn*> run(Call kind, Body&& body, bool sweep = false) {
    using Value = std::invoke_result_t<Body&, PGconn*>;
    const TimePoint started = SteadyClock::now();
    std::optional<TimePoint> call_deadline;
    bool retried_broken = false;
    for (int attempt = 0;; ++attempt) {
      Lease lease = acquire();
      if (!call_deadline) {
        call_deadline = deadline_after(s_.connect_timeout + s_.command_timeout);
      } else if (SteadyClock::now() >= *call_deadline) {
        timed_out(started, "retrying a statement on", false);
      }
      if (!lease) lease.attach(connect(*call_deadline));
      std::string state;
      std::string message;
      bool broken = false;
      std::optional<Value> result;
      Watchdog::Watch watch{lease->db.sock(),
                            std::min(deadline_after(s_.command_timeout), *call_deadline)};
      {
        Watched armed(watchdog_, watch);
        try {
          result.emplace(body(lease->raw));
          if (sweep) maybe_sweep(*lease);
        } catch (const SqlError& e) {
          state = e.state();
          message = e.what();
          broken = e.broken() || is_connection_state(state);
        }
      }
      if (watch.fired || broken || !lease->db.is_open()) {
        lease.discard();
        broken = true;
      }
      if (result) return std::move(*result);
      if (watch.fired) {
        timed_out(started, "waiting for a reply from", kind == Call::write);
      }
      if (broken) {
        if (kind == Call::read && !retried_broken && SteadyClock::now() < *call_deadline) {
          retried_broken = true;
          continue;
        }
        fail(ErrorCode::unavailable,
             "lost the connection to " + s_.redacted_url + ": " + message +
                 (kind == Call::write ? "; the write may or may not have been applied" : ""));
      }
      if (starts_with(state, "40") && attempt < kConflictRetries) continue;
      if (state == "42P01" && attempt == 0) {
        // The table was dropped behind our back: create it again and retry.
        schema_ready_.store(false);
        if (recreate_schema(lease, *call_deadline)) continue;
      }
      fail(state.empty() ? ErrorCode::internal : code_for_sqlstate(state),
           message + state_suffix(state));
    }
  }

  [[noreturn]] void timed_out(TimePoint started, const std::string& doing,
                              bool outcome_unknown) const {
    fail(ErrorCode::timeout,
         "timed out after " + millis(started) + " " + doing + " " + s_.redacted_url +
             " (connect_timeout " + format_duration(s_.connect_timeout) + ", command_timeout " +
             format_duration(s_.command_timeout) + "); the connection was closed" +
             (outcome_unknown ? "; the write may or may not have been applied" : ""));
  }

  bool recreate_schema(Lease& lease, TimePoint call_deadline) {
    Watchdog::Watch watch{lease->db.sock(),
                          std::min(deadline_after(s_.command_timeout), call_deadline)};
    try {
      Watched armed(watchdog_, watch);
      ensure_schema(*lease);
      return true;
    } catch (const SqlError&) {
    } catch (const pqxx::failure&) {
    }
    if (watch.fired || !lease->db.is_open()) lease.discard();
    return false;
  }

  // Waits for a pooled connection or a free slot, up to pool_timeout. An
  // empty lease is a slot: the caller connects with its own deadline.
  Lease acquire() {
    const auto deadline = deadline_after(s_.pool_timeout);
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
        return Lease(*this, nullptr);  // released by give_back(nullptr) if unused
      }
      if (pool_cv_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() &&
          open_ >= s_.pool_size) {
        fail(ErrorCode::timeout, "no pooled connection became free within pool_timeout (" +
                                     format_duration(s_.pool_timeout) + ")");
      }
    }
  }

  std::unique_ptr<Connection> connect(TimePoint call_deadline) {
    const TimePoint started = SteadyClock::now();
    std::unique_ptr<Connection> c;
    try {
      t_connect_deadline = std::min(deadline_after(s_.connect_timeout), call_deadline);
      t_connect_budget = s_.connect_timeout;
      c = std::make_unique<Connection>(s_.conninfo);
    } catch (const ConnectFailure& e) {
      fail(e.code(), "cannot connect to " + s_.redacted_url + ": " + e.what());
    } catch (const pqxx::failure& e) {
      fail(ErrorCode::unavailable,
           "cannot connect to " + s_.redacted_url + ": " + first_line(e.what()));
    }
    Watchdog::Watch watch{c->db.sock(),
                          std::min(deadline_after(s_.command_timeout), call_deadline)};
    try {
      Watched armed(watchdog_, watch);
      {
        // One round trip: quiet notices; READ COMMITTED whatever the
        // database's default, because the cas statements rely on it; and
        // generic plans, which are ordered primary-key walks for every
        // statement (custom plans cost planning time on each call and, with
        // kvstore's 0x01 separators skewing the estimates, can sort a
        // bitmap scan of the whole prefix instead of stopping at LIMIT).
        exec(c->raw,
             "SET client_min_messages = warning; "
             "SET default_transaction_isolation = 'read committed'; "
             "SET plan_cache_mode = force_generic_plan; "
             "SET statement_timeout = " +
                 std::to_string(s_.statement_timeout.count()));
      }
      ensure_schema(*c);
      for (const auto& [name, sql] : statements_) {
        checked(c->raw, PQprepare(c->raw, name.c_str(), sql.c_str(), 0, nullptr));
      }
    } catch (const SqlError& e) {
      if (!watch.fired && (e.broken() || is_connection_state(e.state()))) {
        fail(ErrorCode::unavailable, "lost the connection to " + s_.redacted_url + ": " + e.what() +
                                         state_suffix(e.state()));
      }
      if (!watch.fired) {
        fail(e.state().empty() ? ErrorCode::internal : code_for_sqlstate(e.state()),
             "preparing " + s_.redacted_url + ": " + e.what() + state_suffix(e.state()));
      }
    } catch (const pqxx::failure& e) {  // quote_name() on a connection that broke
      if (!watch.fired) {
        fail(ErrorCode::unavailable,
             "lost the connection to " + s_.redacted_url + ": " + first_line(e.what()));
      }
    }
    if (watch.fired) timed_out(started, "setting up a connection to", false);
    return c;
  }

  // Creates the table and index once per store, and checks that an existing
  // table is one of ours. Concurrent CREATE ... IF NOT EXISTS can still
  // collide in the catalogs, so creators take an advisory lock named after
  // the table first.
  void ensure_schema(Connection& c) {
    std::lock_guard lock(schema_mutex_);
    if (statements_.empty()) build_statements(c);
    if (schema_ready_.load()) return;
    PGconn* db = c.raw;
    exec(db, "BEGIN");
    try {
      exec(db, "SELECT pg_advisory_xact_lock(hashtextextended(" +
                   literal(c, "kvstore:" + qualified_) + ", 0))");
      exec(db, "CREATE TABLE IF NOT EXISTS " + qualified_ +
                   " (k text COLLATE \"C\" PRIMARY KEY,"
                   " v text COLLATE \"C\" NOT NULL,"
                   " expires_at timestamptz)");
      check_columns(c);
      exec(db, "CREATE INDEX IF NOT EXISTS " + c.db.quote_name(index_name()) + " ON " + qualified_ +
                   " (expires_at) WHERE expires_at IS NOT NULL");
      exec(db, "COMMIT");
    } catch (...) {
      if (PQstatus(db) == CONNECTION_OK) PQclear(PQexec(db, "ROLLBACK"));
      throw;
    }
    schema_ready_.store(true);
  }

  std::string literal(Connection& c, const std::string& text) {
    std::unique_ptr<char, void (*)(void*)> quoted(PQescapeLiteral(c.raw, text.data(), text.size()),
                                                  PQfreemem);
    if (!quoted) throw SqlError(first_line(PQerrorMessage(c.raw)), "", false);
    return quoted.get();
  }

  // An existing table of the same name that kvstore did not create would
  // otherwise fail every statement with an obscure "column does not exist".
  void check_columns(Connection& c) {
    static constexpr std::string_view kExpected =
        "k text COLLATE \"C\", v text COLLATE \"C\", expires_at timestamp with time zone";
    const Result r =
        exec(c.raw, "WITH t AS (SELECT to_regclass(" + literal(c, qualified_) +
                        ") AS oid) SELECT"
                        " (SELECT coalesce(string_agg(quote_ident(a.attname) || ' ' ||"
                        "   format_type(a.atttypid, a.atttypmod) ||"
                        "   CASE WHEN a.attcollation = 0 THEN '' ELSE ' COLLATE ' || "
                        "quote_ident(co.collname) END,"
                        "   ', ' ORDER BY a.attnum), '')"
                        "  FROM pg_attribute a LEFT JOIN pg_collation co ON co.oid = a.attcollation"
                        "  WHERE a.attrelid = t.oid AND a.attnum > 0 AND NOT a.attisdropped),"
                        " EXISTS (SELECT 1 FROM pg_index i JOIN pg_attribute a"
                        "   ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]"
                        "  WHERE i.indrelid = t.oid AND i.indisunique AND i.indnkeyatts = 1 AND "
                        "a.attname = 'k')"
                        " FROM t");
    const std::string columns = text_at(r, 0, 0);
    const bool unique_k = text_at(r, 0, 1) == "t";
    if (columns == kExpected && unique_k) return;
    fail(ErrorCode::invalid_argument,
         "table " + qualified_ + " in " + s_.redacted_url +
             " is not a kvstore table: its columns are (" + columns + ")" +
             (columns == kExpected ? " without a primary key on k" : "") +
             "; kvstore expects exactly (" + std::string(kExpected) +
             ") with a primary key on k; choose another with ?table=");
  }

  // "<table>_expires_idx", shortened with a hash when the table name is long
  // (PostgreSQL would truncate it and two tables could then collide).
  std::string index_name() const {
    std::string name = s_.table + "_expires_idx";
    if (name.size() <= kMaxIdentifierBytes) return name;
    char hash[17];
    std::snprintf(hash, sizeof hash, "%016llx",
                  static_cast<unsigned long long>(std::hash<std::string>{}(s_.table)));
    std::size_t cut = 30;  // on a character boundary: the name must stay UTF-8
    while (cut > 0 && (static_cast<unsigned char>(s_.table[cut]) & 0xC0) == 0x80) --cut;
    return s_.table.substr(0, cut) + "_" + hash + "_exp";
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
  void maybe_sweep(Connection& c) {
    if (s_.sweep_interval <= 0ms) return;
    const std::int64_t now = SteadyClock::now().time_since_epoch().count();
    std::int64_t due = next_sweep_.load(std::memory_order_relaxed);
    if (now < due) return;
    const std::int64_t later =
        now + std::chrono::duration_cast<SteadyClock::duration>(s_.sweep_interval).count();
    if (!next_sweep_.compare_exchange_strong(due, later)) return;  // another thread sweeps
    try {
      const std::string batch = std::to_string(s_.sweep_batch);
      const Result r = exec_prepared(c.raw, kSweep, {batch.c_str()});
      if (affected_rows(r) >= s_.sweep_batch) {
        next_sweep_.store(now, std::memory_order_relaxed);  // backlog: sweep again next write
      }
    } catch (const SqlError&) {
      // The caller drops the connection if this broke it.
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

  Watchdog watchdog_;
};

Lease::~Lease() {
  if (store_ != nullptr) store_->give_back(std::move(c_));  // null after discard(): frees a slot
}

}  // namespace

std::unique_ptr<Driver> open(Url& url) {
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
