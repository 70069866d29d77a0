// The PostgreSQL driver: the Driver subclass. Pooling, retries, sweep timing
// and the shared URL parameters come from the driver kit; what is left here
// is connecting within a deadline, the watchdog that bounds statements, the
// schema check and the statements themselves.
#include <kvstore/postgres.h>

#include <poll.h>

#include <cerrno>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include <libpq-fe.h>
#include <pqxx/pqxx>

#include <kvstore/driver.h>

#include "postgres_errors.h"
#include "postgres_options.h"
#include "postgres_sql.h"
#include "postgres_watchdog.h"

namespace kvstore::postgres {

namespace {

using namespace std::chrono_literals;
using namespace detail;
using SteadyClock = std::chrono::steady_clock;
using TimePoint = SteadyClock::time_point;

constexpr const char* kDriver = "postgres";

std::string millis(TimePoint since) {
  return std::to_string(
             std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - since)
                 .count()) +
         "ms";
}

// --- Statements -------------------------------------------------------------

// Statements go to libpq directly: libpqxx 6.4 leaks the PGresult of a
// statement whose connection broke (it asks the dead connection for its
// encoding before taking ownership), and the watchdog breaks connections on
// purpose.
using Result = std::unique_ptr<PGresult, void (*)(PGresult*)>;

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

// The reply to the query just sent: its first failed result if any, else
// its last one. PQexec() would return libpq's own final "server closed the
// connection" result instead, which has lost the SQLSTATE the server sent
// before closing (57P01 when an administrator terminated the backend).
Result reply(PGconn* c, int sent) {
  if (sent == 0) return checked(c, nullptr);
  Result kept(nullptr, PQclear);
  bool failed = false;
  while (PGresult* r = PQgetResult(c)) {
    if (failed) {
      PQclear(r);
      continue;
    }
    const ExecStatusType status = PQresultStatus(r);
    failed = status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK;
    kept.reset(r);
  }
  return checked(c, kept.release());
}

Result exec(PGconn* c, const std::string& sql) { return reply(c, PQsendQuery(c, sql.c_str())); }

// Text parameters; nullptr is SQL NULL. Keys and JSON text never hold NUL.
Result exec_prepared(PGconn* c, const char* name, std::initializer_list<const char*> params) {
  return reply(c, PQsendQueryPrepared(c, name, static_cast<int>(params.size()), params.begin(),
                                      nullptr, nullptr, 0));
}

// Binary parameters (ArrayParam::bytes()); the result comes back as text.
Result exec_prepared_binary(PGconn* c, const char* name,
                            std::initializer_list<const ArrayParam*> params) {
  std::vector<const char*> values;
  std::vector<int> lengths;
  for (const ArrayParam* p : params) {
    values.push_back(p->bytes().data());
    lengths.push_back(static_cast<int>(p->bytes().size()));
  }
  const std::vector<int> formats(params.size(), 1);
  return reply(c, PQsendQueryPrepared(c, name, static_cast<int>(params.size()), values.data(),
                                      lengths.data(), formats.data(), 0));
}

// Positions of `keys` in byte order, which is the "C" collation's order of
// the k column: writes sent in this order lock rows in index order.
template <class KeyOf>
std::vector<std::size_t> key_order(std::size_t n, KeyOf key_of) {
  std::vector<std::size_t> order(n);
  for (std::size_t i = 0; i < n; ++i) order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](std::size_t a, std::size_t b) { return key_of(a) < key_of(b); });
  return order;
}

std::string text_at(const Result& r, int row, int column) {
  return std::string(PQgetvalue(r.get(), row, column),
                     static_cast<std::size_t>(PQgetlength(r.get(), row, column)));
}

std::optional<std::string> nullable_text_at(const Result& r, int row, int column) {
  if (PQgetisnull(r.get(), row, column) != 0) return std::nullopt;
  return text_at(r, row, column);
}

// A column of expires_us (postgres_sql.cpp): integer microseconds since the
// Unix epoch, or NULL for an entry that never expires.
std::optional<Clock::time_point> expiry_at(const Result& r, int row, int column) {
  if (PQgetisnull(r.get(), row, column) != 0) return std::nullopt;
  return Clock::time_point(std::chrono::duration_cast<Clock::duration>(
      std::chrono::microseconds(std::stoll(PQgetvalue(r.get(), row, column)))));
}

// The text parameters of a write's expiry and metadata; pointers into *this,
// so it must outlive the statement.
struct WriteParams {
  explicit WriteParams(const StoredOptions& options)
      : ttl_text(options.ttl ? std::to_string(options.ttl->count()) : std::string()),
        at_text(options.expires_at ? std::to_string(millis_since_epoch(*options.expires_at))
                                   : std::string()),
        ttl(options.ttl ? ttl_text.c_str() : nullptr),
        at(options.expires_at ? at_text.c_str() : nullptr),
        metadata(options.metadata ? options.metadata->c_str() : nullptr) {}
  WriteParams(const WriteParams&) = delete;
  WriteParams& operator=(const WriteParams&) = delete;

  static std::int64_t millis_since_epoch(Clock::time_point at) {
    return std::chrono::floor<std::chrono::milliseconds>(at.time_since_epoch()).count();
  }

  const std::string ttl_text;
  const std::string at_text;
  const char* const ttl;       // nullptr: SQL NULL
  const char* const at;        // nullptr: SQL NULL
  const char* const metadata;  // nullptr: SQL NULL, no metadata
};

std::int64_t affected_rows(const Result& r) {
  const char* n = PQcmdTuples(r.get());
  return *n == '\0' ? 0 : std::stoll(n);
}

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
      throw ConnectError(m.text, m.state, false);
    }
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - SteadyClock::now());
    if (left <= 0ms) {
      PQfinish(c);
      throw ConnectError("timed out after " + millis(started) + " (connect_timeout " +
                             format_duration(budget) + ")",
                         "", true);
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

using PgConnection = pqxx::basic_connection_base<BoundedConnect>;

// One libpq session, set up for the store.
struct Session {
  explicit Session(const std::string& conninfo) : db(conninfo), raw(t_connected) {
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

// What the kit's pool holds: a session, opened inside a call (so that
// connecting runs against the call's deadline and its failures reach the
// classifier) and replaced there when the liveness check finds it dead.
struct Slot {
  std::unique_ptr<Session> session;
};

// An idle session whose socket is readable has been told something
// unsolicited: with no LISTEN in use that is the server's goodbye (a FATAL
// admin shutdown) or EOF, so the session is dead.
bool looks_alive(Session& s) {
  if (!s.db.is_open()) return false;
  const int fd = s.db.sock();
  if (fd < 0) return false;
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, 0) == 0;
}

class PostgresStore final : public Driver {
 public:
  explicit PostgresStore(Settings settings)
      : Driver(kDriver, Capabilities{/*persistent=*/true, /*shared=*/true,
                                     /*server_clock=*/true, /*pooled=*/true}),
        s_(std::move(settings)),
        classify_([this](const std::exception& e) { return classify(e, s_.target); }),
        sweeper_(s_.sweep.sweep_interval),
        pool_(s_.connection.pool(), [] { return std::make_unique<Slot>(); }) {}

 protected:
  std::optional<std::string> do_get(const std::string& key) override {
    return call(Idempotence::idempotent, false, [&](PGconn* c) -> std::optional<std::string> {
      const Result r = exec_prepared(c, kGet, {key.c_str()});
      if (PQntuples(r.get()) == 0) return std::nullopt;
      return text_at(r, 0, 0);
    });
  }

  std::optional<StoredEntry> do_get_entry(const std::string& key) override {
    return call(Idempotence::idempotent, false, [&](PGconn* c) -> std::optional<StoredEntry> {
      const Result r = exec_prepared(c, kGetEntry, {key.c_str()});
      if (PQntuples(r.get()) == 0) return std::nullopt;
      return StoredEntry{key, text_at(r, 0, 0), nullable_text_at(r, 0, 1), expiry_at(r, 0, 2)};
    });
  }

  void do_set(const std::string& key, std::string_view json,
              const StoredOptions& options) override {
    const std::string value(json);
    const WriteParams p(options);
    call(
        Idempotence::idempotent_write, true,
        [&](PGconn* c) {
          exec_prepared(c, kSet, {key.c_str(), value.c_str(), p.ttl, p.at, p.metadata});
          return 0;
        },
        /*sweep=*/true);
  }

  void do_remove(const std::string& key) override {
    call(Idempotence::idempotent_write, true, [&](PGconn* c) {
      exec_prepared(c, kRemove, {key.c_str()});
      return 0;
    });
  }

  // The bulk calls are one statement each (docs/drivers/postgres.md, Bulk
  // calls): atomic, one round trip, with the Idempotence of the single call.
  std::vector<std::optional<std::string>> do_get_many(
      const std::vector<std::string>& keys) override {
    std::size_t bytes = 0;
    for (const std::string& k : keys) bytes += k.size();
    ArrayParam param(ArrayParam::kText, keys.size(), bytes);
    std::unordered_map<std::string_view, std::size_t> position;
    position.reserve(keys.size());
    for (std::size_t i = 0; i < keys.size(); ++i) {
      param.add(keys[i]);
      position.emplace(keys[i], i);
    }
    return call(Idempotence::idempotent, false, [&](PGconn* c) {
      const Result r = exec_prepared_binary(c, kGetMany, {&param});
      std::vector<std::optional<std::string>> values(keys.size());
      const int rows = PQntuples(r.get());
      for (int i = 0; i < rows; ++i) {
        // k = ANY() in the "C" collation matches bytes, so k is one of ours.
        const std::string_view k(PQgetvalue(r.get(), i, 0),
                                 static_cast<std::size_t>(PQgetlength(r.get(), i, 0)));
        const auto at = position.find(k);
        if (at != position.end()) values[at->second] = text_at(r, i, 1);
      }
      return values;
    });
  }

  void do_set_many(const std::vector<StoredWrite>& writes) override {
    std::size_t key_bytes = 0;
    std::size_t json_bytes = 0;
    for (const StoredWrite& w : writes) {
      key_bytes += w.key.size();
      json_bytes += w.json.size();
    }
    ArrayParam keys(ArrayParam::kText, writes.size(), key_bytes);
    ArrayParam values(ArrayParam::kText, writes.size(), json_bytes);
    std::size_t metadata_bytes = 0;
    for (const StoredWrite& w : writes)
      metadata_bytes += w.options.metadata ? w.options.metadata->size() : 0;
    ArrayParam ttls(ArrayParam::kInt8, writes.size(), 8 * writes.size());
    ArrayParam ats(ArrayParam::kInt8, writes.size(), 8 * writes.size());
    ArrayParam metadata(ArrayParam::kText, writes.size(), metadata_bytes);
    for (const std::size_t i : key_order(
             writes.size(), [&](std::size_t i) -> const std::string& { return writes[i].key; })) {
      const StoredOptions& o = writes[i].options;
      keys.add(writes[i].key);
      values.add(writes[i].json);
      ttls.add(o.ttl ? std::optional<std::int64_t>(o.ttl->count()) : std::nullopt);
      ats.add(o.expires_at
                  ? std::optional<std::int64_t>(WriteParams::millis_since_epoch(*o.expires_at))
                  : std::nullopt);
      metadata.add_nullable(o.metadata);
    }
    call(
        Idempotence::idempotent_write, true,
        [&](PGconn* c) {
          exec_prepared_binary(c, kSetMany, {&keys, &values, &ttls, &ats, &metadata});
          return 0;
        },
        /*sweep=*/true);
  }

  void do_remove_many(const std::vector<std::string>& keys) override {
    std::size_t bytes = 0;
    for (const std::string& k : keys) bytes += k.size();
    ArrayParam param(ArrayParam::kText, keys.size(), bytes);
    for (const std::size_t i :
         key_order(keys.size(), [&](std::size_t i) -> const std::string& { return keys[i]; })) {
      param.add(keys[i]);
    }
    call(Idempotence::idempotent_write, true, [&](PGconn* c) {
      exec_prepared_binary(c, kRemoveMany, {&param});
      return 0;
    });
  }

  // Each case is one statement, atomic under READ COMMITTED (the session's
  // isolation level is forced to it): UPDATE/DELETE re-check their WHERE on
  // the newest row version after waiting for a concurrent writer, and
  // INSERT ... ON CONFLICT either inserts or locks the existing row.
  bool do_swap(const std::string& key, std::optional<std::string_view> expected,
               std::optional<std::string_view> desired, const StoredOptions& options) override {
    const std::string want = desired ? std::string(*desired) : std::string();
    const std::string have = expected ? std::string(*expected) : std::string();
    const WriteParams p(options);
    const bool reads_only = !expected && !desired;
    return call(
        reads_only ? Idempotence::idempotent : Idempotence::not_idempotent, !reads_only,
        [&](PGconn* c) {
          if (reads_only) return text_at(exec_prepared(c, kAbsent, {key.c_str()}), 0, 0) == "t";
          Result r(nullptr, PQclear);
          if (!expected) {
            r = exec_prepared(c, kCreate, {key.c_str(), want.c_str(), p.ttl, p.at, p.metadata});
          } else if (desired) {
            r = exec_prepared(c, kReplace,
                              {key.c_str(), have.c_str(), want.c_str(), p.ttl, p.at, p.metadata});
          } else {
            r = exec_prepared(c, kDeleteIf, {key.c_str(), have.c_str()});
          }
          return affected_rows(r) == 1;
        },
        /*sweep=*/desired.has_value());
  }

  std::vector<StoredEntry> do_list(const KeyRange& range, std::size_t limit) override {
    return list_page(range, limit, kList, kListOpen, /*values=*/true);
  }

  // One statement per page that names no value column (postgres_sql.cpp).
  std::vector<StoredEntry> do_list_keys(const KeyRange& range, std::size_t limit) override {
    return list_page(range, limit, kListKeys, kListKeysOpen, /*values=*/false);
  }

 private:
  // Rows (k, [v,] metadata, expires_us), as the list statements give them.
  std::vector<StoredEntry> list_page(const KeyRange& range, std::size_t limit, const char* bounded,
                                     const char* open, bool values) {
    return call(Idempotence::idempotent, false, [&](PGconn* c) {
      const std::string n = std::to_string(limit);
      const Result r =
          range.end
              ? exec_prepared(c, bounded, {range.begin.c_str(), range.end->c_str(), n.c_str()})
              : exec_prepared(c, open, {range.begin.c_str(), n.c_str()});
      const int rows = PQntuples(r.get());
      const int meta = values ? 2 : 1;
      std::vector<StoredEntry> page;
      page.reserve(static_cast<std::size_t>(rows));
      for (int i = 0; i < rows; ++i) {
        page.push_back({text_at(r, i, 0), values ? text_at(r, i, 1) : std::string(),
                        nullable_text_at(r, i, meta), expiry_at(r, i, meta + 1)});
      }
      return page;
    });
  }

  // Runs `body` as one autocommit statement on a pooled session, through the
  // kit's retry runner (which waits at most pool_timeout for a slot).
  //
  // Once the pool grants a slot, the call has connect_timeout +
  // command_timeout in all: connecting gets at most connect_timeout, and the
  // statements at most command_timeout, enforced by the watchdog whatever
  // the server does. A statement the watchdog cut is never repeated: the
  // server did not answer in time, and a retry would only wait again.
  template <class Body>
  std::invoke_result_t<Body&, PGconn*> call(Idempotence idempotence, bool write, Body&& body,
                                            bool sweep = false) {
    using Value = std::invoke_result_t<Body&, PGconn*>;
    const TimePoint started = SteadyClock::now();
    std::optional<TimePoint> call_deadline;
    std::optional<std::string> cut;
    return run_with_retry(
        pool_, classify_, idempotence, s_.connection.pool_timeout, [&](Slot& slot) -> Value {
          // The kit repeats a failure on a reused connection; after a cut
          // this ends the call with the cut's own error instead.
          if (cut) throw Error(ErrorCode::timeout, *cut, kDriver, true);
          if (!call_deadline) {
            call_deadline =
                deadline_after(s_.connection.connect_timeout + s_.connection.command_timeout);
          } else if (SteadyClock::now() >= *call_deadline) {
            throw Error(ErrorCode::timeout, timed_out(started, "retrying a statement on", false),
                        kDriver, true);
          }
          if (slot.session && !looks_alive(*slot.session)) slot.session.reset();
          if (!slot.session) slot.session = connect(*call_deadline, started);
          Session& session = *slot.session;

          std::optional<Value> result;
          std::exception_ptr failure;
          Watchdog::Watch watch{session.db.sock(), statement_deadline(*call_deadline)};
          {
            Watched armed(watchdog_, watch);
            try {
              result.emplace(run_statement(session, body));
              if (sweep) maybe_sweep(session);
            } catch (...) {
              failure = std::current_exception();
            }
          }
          if (watch.fired || !session.db.is_open()) slot.session.reset();
          if (result) return std::move(*result);
          if (watch.fired) {
            cut = timed_out(started, "waiting for a reply from", write);
            throw StatementCut(*cut);
          }
          std::rethrow_exception(failure);
        });
  }

  // The statement, once more after recreating the table if it was dropped
  // behind the store's back (the failed statement changed nothing).
  template <class Body>
  std::invoke_result_t<Body&, PGconn*> run_statement(Session& session, Body& body) {
    try {
      return body(session.raw);
    } catch (const SqlError& e) {
      if (e.state() != "42P01") throw;
    }
    schema_ready_.store(false);
    ensure_schema(session);
    return body(session.raw);
  }

  TimePoint statement_deadline(TimePoint call_deadline) const {
    return std::min(deadline_after(s_.connection.command_timeout), call_deadline);
  }

  std::string timed_out(TimePoint started, const std::string& doing, bool write) const {
    return "timed out after " + millis(started) + " " + doing + " " + s_.target +
           " (connect_timeout " + format_duration(s_.connection.connect_timeout) +
           ", command_timeout " + format_duration(s_.connection.command_timeout) +
           "); the connection was closed" +
           (write ? "; the write may or may not have been applied" : "");
  }

  // A new session, set up and with every statement prepared. Throws
  // ConnectError (classified), SqlError, or Error(timeout) if setting up
  // overran the call's deadline (nothing of the call was sent).
  std::unique_ptr<Session> connect(TimePoint call_deadline, TimePoint started) {
    std::unique_ptr<Session> session;
    t_connect_deadline = std::min(deadline_after(s_.connection.connect_timeout), call_deadline);
    t_connect_budget = s_.connection.connect_timeout;
    try {
      session = std::make_unique<Session>(s_.conninfo);
    } catch (const pqxx::failure& e) {
      throw ConnectError(first_line(e.what()), "", false);
    }
    Watchdog::Watch watch{session->db.sock(), statement_deadline(call_deadline)};
    std::exception_ptr failure;
    {
      Watched armed(watchdog_, watch);
      try {
        exec(session->raw, session_setup_sql(s_.statement_timeout.count()));
        ensure_schema(*session);
        for (const auto& [name, sql] : statements_) {
          reply(session->raw, PQsendPrepare(session->raw, name.c_str(), sql.c_str(), 0, nullptr));
        }
      } catch (...) {
        failure = std::current_exception();
      }
    }
    if (watch.fired) {
      throw Error(ErrorCode::timeout, timed_out(started, "setting up a connection to", false),
                  kDriver, true);
    }
    if (failure) std::rethrow_exception(failure);
    return session;
  }

  // Creates the table and index once per store, and checks that an existing
  // table is one of ours. Concurrent CREATE ... IF NOT EXISTS can still
  // collide in the catalogs, so creators take an advisory lock named after
  // the table first.
  void ensure_schema(Session& s) {
    std::lock_guard lock(schema_mutex_);
    if (statements_.empty()) {
      qualified_ =
          (s_.schema.empty() ? "" : s.db.quote_name(s_.schema) + ".") + s.db.quote_name(s_.table);
      statements_ = statements(qualified_);
    }
    if (schema_ready_.load()) return;
    PGconn* db = s.raw;
    exec(db, "BEGIN");
    try {
      exec(db, "SELECT pg_advisory_xact_lock(hashtextextended(" +
                   literal(s, "kvstore:" + qualified_) + ", 0))");
      const bool created =
          text_at(exec(db, "SELECT to_regclass(" + literal(s, qualified_) + ") IS NULL"), 0, 0) ==
          "t";
      exec(db, create_table_sql(qualified_));
      if (created) exec(db, record_layout_sql(qualified_));
      check_layout(s);
      exec(db, create_index_sql(qualified_, s.db.quote_name(index_name(s_.table))));
      exec(db, "COMMIT");
    } catch (...) {
      if (PQstatus(db) == CONNECTION_OK) PQclear(PQexec(db, "ROLLBACK"));
      throw;
    }
    schema_ready_.store(true);
  }

  static std::string literal(Session& s, const std::string& text) {
    std::unique_ptr<char, void (*)(void*)> quoted(PQescapeLiteral(s.raw, text.data(), text.size()),
                                                  PQfreemem);
    if (!quoted) throw SqlError(first_line(PQerrorMessage(s.raw)), "", false);
    return quoted.get();
  }

  // Checks that the table is one of ours, and upgrades a layout-1 table in
  // place (the caller holds the advisory lock, inside the transaction that
  // commits the upgrade). A foreign table of the same name would otherwise
  // fail every statement with an obscure "column does not exist"; a table of
  // a newer layout would be written wrongly.
  void check_layout(Session& s) {
    const Result r = exec(s.raw, describe_table_sql(literal(s, qualified_)));
    const std::string columns = text_at(r, 0, 0);
    const bool unique_k = text_at(r, 0, 1) == "t";
    const std::optional<long long> recorded = recorded_layout(text_at(r, 0, 2));
    if (recorded && *recorded > kLayoutVersion) {
      fail(ErrorCode::unsupported, "table " + qualified_ + " in " + s_.target +
                                       ": its layout version " + std::to_string(*recorded) +
                                       " is newer than this kvstore supports (" +
                                       std::to_string(kLayoutVersion) +
                                       "); use a newer kvstore, or another table with ?table=");
    }
    if (unique_k && columns == kColumnsV2) {
      if (!recorded || *recorded != kLayoutVersion) exec(s.raw, record_layout_sql(qualified_));
      return;
    }
    // Layout 1 recorded no version; its columns say what it is.
    if (unique_k && columns == kColumnsV1 && (!recorded || *recorded == 1)) {
      exec(s.raw, upgrade_sql(qualified_));
      exec(s.raw, record_layout_sql(qualified_));
      return;
    }
    const bool ours = columns == kColumnsV1 || columns == kColumnsV2;
    fail(ErrorCode::invalid_argument,
         "table " + qualified_ + " in " + s_.target + " is not a kvstore table: its columns are (" +
             columns + ")" + (ours ? " without a primary key on k" : "") +
             "; kvstore expects exactly (" + std::string(kColumnsV2) +
             ") with a primary key on k (or the same without metadata, which it upgrades); "
             "choose another with ?table=");
  }

  // Piggy-backs one bounded, index-driven batch delete of expired rows on a
  // write. Failures here never fail the write; a session the sweep broke is
  // dropped by the caller.
  void maybe_sweep(Session& s) {
    sweeper_.run_if_due([&] {
      try {
        const std::string batch = std::to_string(s_.sweep.sweep_batch);
        const Result r = exec_prepared(s.raw, kSweep, {batch.c_str()});
        return affected_rows(r) >= static_cast<std::int64_t>(s_.sweep.sweep_batch);
      } catch (const SqlError&) {
        return false;
      }
    });
  }

  const Settings s_;
  const ErrorClassifier classify_;
  SweepThrottle sweeper_;
  Watchdog watchdog_;

  std::mutex schema_mutex_;
  std::atomic<bool> schema_ready_{false};
  std::string qualified_;  // quoted [schema.]table, set once under schema_mutex_
  std::vector<std::pair<std::string, std::string>> statements_;

  ConnectionPool<Slot> pool_;  // last: its sessions go before the rest
};

}  // namespace

std::unique_ptr<KvStore> create(const Options& options) {
  return std::make_unique<KvStore>(std::make_unique<PostgresStore>(settings_for(options)),
                                   options.store);
}

std::unique_ptr<Driver> open(Url& url) {
  return std::make_unique<PostgresStore>(settings_for(take_options(url)));
}

}  // namespace kvstore::postgres
