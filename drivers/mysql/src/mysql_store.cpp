// The MySQL / MariaDB driver: its statements on the kit's connection pool,
// retry runner and sweep throttle. See docs/drivers/mysql.md for the schema
// and the reasoning behind each statement.
#include <kvstore/mysql.h>

// Only the <cppconn/...> interface headers: <mysql_driver.h> and
// <mysql_connection.h> pull in Boost.
#include <cppconn/connection.h>
#include <cppconn/datatype.h>
#include <cppconn/exception.h>
#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>
#include <cppconn/statement.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <kvstore/driver.h>

#include "mysql_client.h"
#include "mysql_errors.h"
#include "mysql_options.h"
#include "mysql_sql.h"

namespace kvstore::mysql {

namespace {

using SteadyClock = std::chrono::steady_clock;
using std::chrono::milliseconds;

milliseconds since(SteadyClock::time_point t) {
  return std::chrono::duration_cast<milliseconds>(SteadyClock::now() - t);
}

std::string ms(milliseconds d) { return std::to_string(d.count()) + " ms"; }

// A connection idle for longer than this is pinged before a cas. When a
// connection breaks mid-statement the client cannot tell whether the server
// ran it, so a cas must not be the call that discovers a server restart
// (which takes far longer than this); busy connections skip the ping.
constexpr milliseconds kValidateAfterIdle{100};

// InnoDB deadlocks roll back one statement; concurrent creators of one key
// can deadlock several times in a row, so they get more attempts than the
// kit's default. Every other retry is bounded by the call's deadline first.
const RetryPolicy kRetryPolicy{20, milliseconds(1)};

// now_ms + ttl must stay a BIGINT. The core rejects TTLs beyond kMaxTtl
// (100 years), far below 2^50 ms (~35,000 years), so this cap never shortens
// a TTL a caller may pass; it only keeps the arithmetic safe for any input.
constexpr std::int64_t kTtlCapMs = std::int64_t{1} << 50;
static_assert(kMaxTtl.count() < kTtlCapMs, "the BIGINT cap must not shorten kMaxTtl");
std::int64_t ttl_ms(milliseconds ttl) { return std::min<std::int64_t>(ttl.count(), kTtlCapMs); }

sql::SQLString bytes(std::string_view s) { return sql::SQLString(s.data(), s.size()); }

// Moves the text out of a SQLString (its operator-> exposes the string).
std::string take_string(sql::SQLString s) { return std::move(*s.operator->()); }

// Binds a write's metadata (NULL: none) and its expiry as the pair
// (absolute ms, ttl ms) of mysql_sql.h, from parameter `i` on; returns the
// next parameter index.
unsigned bind_metadata(sql::PreparedStatement& s, unsigned i, const StoredOptions& options) {
  if (options.metadata) {
    s.setString(i, bytes(*options.metadata));
  } else {
    s.setNull(i, sql::DataType::LONGVARBINARY);
  }
  return i + 1;
}

unsigned bind_expiry(sql::PreparedStatement& s, unsigned i, const StoredOptions& options) {
  if (options.expires_at) {
    s.setInt64(
        i,
        std::chrono::duration_cast<milliseconds>(options.expires_at->time_since_epoch()).count());
  } else {
    s.setNull(i, sql::DataType::BIGINT);
  }
  if (options.ttl) {
    s.setInt64(i + 1, ttl_ms(*options.ttl));
  } else {
    s.setNull(i + 1, sql::DataType::BIGINT);
  }
  return i + 2;
}

// Reads metadata and expires_at from columns `m` and `m + 1`.
void read_extras(sql::ResultSet& rs, unsigned m, StoredEntry& entry) {
  if (!rs.isNull(m)) entry.metadata = take_string(rs.getString(m));
  if (!rs.isNull(m + 1)) entry.expires_at = Clock::time_point(milliseconds(rs.getInt64(m + 1)));
}

std::string describe_exception(const sql::SQLException& e) {
  return describe(e.what(), e.getErrorCode(), e.getSQLState());
}

// --- Connections ---------------------------------------------------------------

struct Connection {
  std::unique_ptr<sql::Connection> conn;
  std::array<std::unique_ptr<sql::PreparedStatement>, kStmtCount> stmts;
  std::unique_ptr<sql::PreparedStatement> sweep;
  // Bulk statements by kind and row count (powers of two, bulk_batches()).
  std::map<std::pair<Bulk, std::size_t>, std::unique_ptr<sql::PreparedStatement>> bulk;
  SteadyClock::time_point last_used = SteadyClock::now();
  // Lost after its call's own statements succeeded (a failed sweep): the
  // next lease finds it out and lets the kit replace it.
  bool broken = false;
  // This call has sent a statement that writes: if the connection breaks
  // now, the write may have run. (Preparing a statement writes nothing.)
  bool sent_write = false;

  ~Connection() {
    // Statements before their connection; nothing may escape a destructor.
    try {
      sweep.reset();
      bulk.clear();
      for (auto& s : stmts) s.reset();
      conn.reset();
    } catch (...) {
    }
  }
};

// Failures while connecting reach the caller of acquire() directly, not
// through run_with_retry's classifier, so they become the Error here.
// Nothing was written yet: the outcome is never unknown.
Error connect_error(const ServerError& e) {
  return to_error(classify_error(e), Idempotence::idempotent);
}

// --- The store -------------------------------------------------------------------

class MysqlStore final : public Driver {
 public:
  explicit MysqlStore(Options options)
      : Driver(kDriverName, make_capabilities()),
        options_(std::move(options)),
        server_(describe_server(options_)),
        timeouts_(client_timeouts(options_)),
        texts_(statement_texts(options_.table)),
        sweep_text_(sweep_text(options_.table, options_.sweep_batch)),
        sweep_(options_.sweep_interval),
        pool_(pool_options(options_), [this] { return connect(); }) {}

 protected:
  std::optional<std::string> do_get(const std::string& key) override {
    return run(Idempotence::idempotent, [&](Connection& c) -> std::optional<std::string> {
      sql::PreparedStatement& s = stmt(c, kGet);
      s.setString(1, key);
      std::unique_ptr<sql::ResultSet> rs(s.executeQuery());
      if (!rs->next()) return std::nullopt;
      return take_string(rs->getString(1));
    });
  }

  void do_set(const std::string& key, std::string_view json,
              const StoredOptions& options) override {
    run(Idempotence::idempotent_write, [&](Connection& c) {
      check_packet(json, 1);
      sql::PreparedStatement& s = stmt(c, kSet);
      s.setString(1, key);
      s.setString(2, bytes(json));
      bind_expiry(s, bind_metadata(s, 3, options), options);
      c.sent_write = true;
      s.executeUpdate();
      maybe_sweep(c);
      return 0;
    });
  }

  void do_remove(const std::string& key) override {
    run(Idempotence::idempotent_write, [&](Connection& c) {
      sql::PreparedStatement& s = stmt(c, kRemove);
      s.setString(1, key);
      c.sent_write = true;
      s.executeUpdate();
      return 0;
    });
  }

  // The bulk calls: batches of bulk_batches() (docs/drivers/mysql.md, Bulk
  // calls). Reads are one SELECT per batch; the writes of one call are one
  // transaction, with the Idempotence of the single call.
  std::vector<std::optional<std::string>> do_get_many(
      const std::vector<std::string>& keys) override {
    std::unordered_map<std::string_view, std::size_t> position;
    position.reserve(keys.size());
    std::vector<std::size_t> sizes;
    sizes.reserve(keys.size());
    for (std::size_t i = 0; i < keys.size(); ++i) {
      position.emplace(keys[i], i);
      sizes.push_back(keys[i].size() + kParamBytes);
    }
    return run(Idempotence::idempotent, [&](Connection& c) {
      std::vector<std::optional<std::string>> values(keys.size());
      std::size_t next = 0;
      for (const std::size_t n : bulk_batches(sizes, batch_bytes())) {
        sql::PreparedStatement& s = bulk_stmt(c, Bulk::get, n);
        for (unsigned i = 0; i < n; ++i) s.setString(i + 1, keys[next + i]);
        next += n;
        std::unique_ptr<sql::ResultSet> rs(s.executeQuery());
        while (rs->next()) {
          // k IN (...) on a VARBINARY matches bytes, so k is one of ours.
          const auto at = position.find(take_string(rs->getString(1)));
          if (at != position.end()) values[at->second] = take_string(rs->getString(2));
        }
      }
      return values;
    });
  }

  void do_set_many(const std::vector<StoredWrite>& writes) override {
    // Key order: concurrent bulk writes lock rows in one order (fewer
    // deadlocks, which roll the whole transaction back and are repeated).
    const std::vector<std::size_t> order = key_order(
        writes.size(), [&](std::size_t i) -> const std::string& { return writes[i].key; });
    std::vector<std::size_t> sizes;
    sizes.reserve(writes.size());
    for (const std::size_t i : order) {
      const std::size_t metadata =
          writes[i].options.metadata ? writes[i].options.metadata->size() : 0;
      sizes.push_back(writes[i].key.size() + writes[i].json.size() + metadata + 5 * kParamBytes);
    }
    run(Idempotence::idempotent_write, [&](Connection& c) {
      for (const StoredWrite& w : writes) check_packet(w.json, 1);
      const std::vector<std::size_t> batches = bulk_batches(sizes, batch_bytes());
      in_transaction(c, batches.size() > 1, [&] {
        std::size_t next = 0;
        for (const std::size_t n : batches) {
          sql::PreparedStatement& s = bulk_stmt(c, Bulk::set, n);
          unsigned p = 1;
          for (std::size_t j = 0; j < n; ++j) {
            const StoredWrite& w = writes[order[next + j]];
            s.setString(p++, w.key);
            s.setString(p++, bytes(w.json));
            p = bind_expiry(s, bind_metadata(s, p, w.options), w.options);
          }
          next += n;
          c.sent_write = true;
          s.executeUpdate();
        }
      });
      maybe_sweep(c);
      return 0;
    });
  }

  void do_remove_many(const std::vector<std::string>& keys) override {
    const std::vector<std::size_t> order =
        key_order(keys.size(), [&](std::size_t i) -> const std::string& { return keys[i]; });
    std::vector<std::size_t> sizes;
    sizes.reserve(keys.size());
    for (const std::size_t i : order) sizes.push_back(keys[i].size() + kParamBytes);
    run(Idempotence::idempotent_write, [&](Connection& c) {
      const std::vector<std::size_t> batches = bulk_batches(sizes, batch_bytes());
      in_transaction(c, batches.size() > 1, [&] {
        std::size_t next = 0;
        for (const std::size_t n : batches) {
          sql::PreparedStatement& s = bulk_stmt(c, Bulk::remove, n);
          for (unsigned i = 0; i < n; ++i) s.setString(i + 1, keys[order[next + i]]);
          next += n;
          c.sent_write = true;
          s.executeUpdate();
        }
      });
      return 0;
    });
  }

  bool do_swap(const std::string& key, std::optional<std::string_view> expected,
               std::optional<std::string_view> desired, const StoredOptions& options) override {
    if (!expected && !desired) {
      // "Remove if absent": nothing to write; one read decides.
      return run(Idempotence::idempotent, [&](Connection& c) {
        sql::PreparedStatement& s = stmt(c, kLive);
        s.setString(1, key);
        std::unique_ptr<sql::ResultSet> rs(s.executeQuery());
        return !rs->next();
      });
    }
    return run(Idempotence::not_idempotent, [&](Connection& c) {
      if (expected) check_packet(*expected, desired ? 2 : 1);
      if (desired) check_packet(*desired, expected ? 2 : 1);
      bool swapped = false;
      if (!expected) {
        sql::PreparedStatement& s = stmt(c, kCreate);
        s.setString(1, key);
        s.setString(2, bytes(*desired));
        bind_expiry(s, bind_metadata(s, 3, options), options);
        c.sent_write = true;
        swapped = s.executeUpdate() > 0;
      } else if (!desired) {
        sql::PreparedStatement& s = stmt(c, kDeleteIf);
        s.setString(1, key);
        s.setString(2, bytes(*expected));
        c.sent_write = true;
        swapped = s.executeUpdate() > 0;
      } else {
        swapped = replace(c, key, *expected, *desired, options);
      }
      if (swapped) maybe_sweep(c);
      return swapped;
    });
  }

  std::vector<StoredEntry> do_list(const KeyRange& range, std::size_t limit) override {
    const auto capped = static_cast<std::int64_t>(std::min<std::size_t>(limit, 1u << 30));
    return run(Idempotence::idempotent, [&](Connection& c) {
      sql::PreparedStatement& s = stmt(c, range.end ? kListTo : kListAll);
      unsigned i = 1;
      s.setString(i++, range.begin);
      if (range.end) s.setString(i++, *range.end);
      s.setInt64(i, capped);
      std::unique_ptr<sql::ResultSet> rs(s.executeQuery());
      std::vector<StoredEntry> page;
      page.reserve(std::min<std::size_t>(limit, 1024));
      while (rs->next()) {
        StoredEntry& entry =
            page.emplace_back(take_string(rs->getString(1)), take_string(rs->getString(2)));
        read_extras(*rs, 3, entry);
      }
      return page;
    });
  }

  std::optional<StoredEntry> do_get_entry(const std::string& key) override {
    return run(Idempotence::idempotent, [&](Connection& c) -> std::optional<StoredEntry> {
      sql::PreparedStatement& s = stmt(c, kGetEntry);
      s.setString(1, key);
      std::unique_ptr<sql::ResultSet> rs(s.executeQuery());
      if (!rs->next()) return std::nullopt;
      StoredEntry entry{key, take_string(rs->getString(1))};
      read_extras(*rs, 2, entry);
      return entry;
    });
  }

  // One indexed range read per page, as do_list, selecting no value column.
  std::vector<StoredEntry> do_list_keys(const KeyRange& range, std::size_t limit) override {
    const auto capped = static_cast<std::int64_t>(std::min<std::size_t>(limit, 1u << 30));
    return run(Idempotence::idempotent, [&](Connection& c) {
      sql::PreparedStatement& s = stmt(c, range.end ? kKeysTo : kKeysAll);
      unsigned i = 1;
      s.setString(i++, range.begin);
      if (range.end) s.setString(i++, *range.end);
      s.setInt64(i, capped);
      std::unique_ptr<sql::ResultSet> rs(s.executeQuery());
      std::vector<StoredEntry> page;
      page.reserve(std::min<std::size_t>(limit, 1024));
      while (rs->next()) {
        StoredEntry& entry = page.emplace_back(take_string(rs->getString(1)));
        read_extras(*rs, 2, entry);
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
    caps.pooled = true;
    return caps;
  }

  static PoolOptions pool_options(const Options& options) {
    PoolOptions pool;
    pool.size = options.pool_size;
    pool.wait_timeout = options.pool_timeout;
    return pool;
  }

  // Runs `body` on a pooled connection under the kit's retry rule. The
  // deadline bounds the wait for a connection and when a retry may start;
  // each step of the body is bounded by the client's own timeouts.
  template <class Body>
  auto run(Idempotence idempotence, Body&& body) -> decltype(body(std::declval<Connection&>())) {
    register_this_thread();
    return run_with_retry(
        pool_, classifier_, idempotence, options_.pool_timeout,
        [&](Connection& c) { return attempt(c, idempotence, body); }, kRetryPolicy);
  }

  // One attempt: the liveness check, the body (again once if the table was
  // dropped under us), and the SQLException turned into a ServerError that
  // says whether the step timed out and whether a write had been sent.
  template <class Body>
  auto attempt(Connection& c, Idempotence idempotence, Body& body) -> decltype(body(c)) {
    if (c.broken) {
      throw ServerError("a pooled connection to " + server_ + " broke after its last call",
                        kServerGone);
    }
    c.sent_write = false;
    const SteadyClock::time_point started = SteadyClock::now();
    try {
      if (idempotence == Idempotence::not_idempotent &&
          started - c.last_used >= kValidateAfterIdle) {
        check_alive(c);
      }
      for (bool recreated = false;; recreated = true) {
        try {
          auto result = body(c);
          c.last_used = SteadyClock::now();
          return result;
        } catch (const sql::SQLException& e) {
          if (e.getErrorCode() != kNoSuchTable || recreated) throw;
          recreate_table(c);
        }
      }
    } catch (const sql::SQLException& e) {
      throw failure(c, e, started, idempotence);
    }
  }

  ServerError failure(Connection& c, const sql::SQLException& e, SteadyClock::time_point started,
                      Idempotence idempotence) {
    const int number = e.getErrorCode();
    if (number == kBadField) {  // the table changed under us
      ready_.store(false);      // the next new connection checks the columns again
      throw Error(ErrorCode::invalid_argument, not_our_table(describe_exception(e)), kDriverName,
                  false, std::to_string(number));
    }
    if (!is_connection_failure(number)) return ServerError(describe_exception(e), number);
    // The idle connections most likely broke with this one (a server
    // restart): close them so that no later call trips over them.
    c.broken = true;
    pool_.clear_idle();
    const milliseconds took = since(started);
    const bool timed_out = ran_into(took, timeouts_.read);
    std::string what = timed_out ? "reading from " + server_ + " timed out after " + ms(took) +
                                       " (command_timeout " + ms(timeouts_.read) + ")"
                                 : "connection to " + server_ + " lost";
    if (idempotence == Idempotence::not_idempotent && c.sent_write && may_have_run(number)) {
      what +=
          "; the cas may have reached the server, so its outcome is unknown and it was not"
          " repeated";
    } else if (idempotence == Idempotence::idempotent_write && c.sent_write &&
               may_have_run(number)) {
      what += "; the write may have reached the server, so its outcome is unknown";
    }
    return ServerError(what + ": " + describe_exception(e), number, timed_out, c.sent_write);
  }

  void check_alive(Connection& c) {
    const SteadyClock::time_point started = SteadyClock::now();
    bool alive = false;
    try {
      alive = c.conn->isValid();
    } catch (const sql::SQLException&) {
    }
    if (alive) return;
    c.broken = true;
    pool_.clear_idle();
    const milliseconds took = since(started);
    if (ran_into(took, timeouts_.read)) {
      throw ServerError(
          "the server did not answer a ping within command_timeout (" + ms(took) + ")", kServerGone,
          true);
    }
    throw ServerError("a pooled connection to " + server_ + " was found closed by a ping",
                      kServerGone);
  }

  // UPDATE reports only rows it changed (CLIENT_FOUND_ROWS is off, which the
  // create statement needs). When desired == expected the matched row may not
  // change at all, so 0 is ambiguous; a read then decides, and repeats the
  // UPDATE if the row matches but still needs its new expiry (a TTL counted
  // from a later millisecond).
  bool replace(Connection& c, const std::string& key, std::string_view expected,
               std::string_view desired, const StoredOptions& options) {
    for (int attempt = 0;; ++attempt) {
      sql::PreparedStatement& u = stmt(c, kReplace);
      u.setString(1, bytes(desired));
      unsigned i = bind_expiry(u, bind_metadata(u, 2, options), options);
      u.setString(i++, key);
      u.setString(i, bytes(expected));
      c.sent_write = true;
      if (u.executeUpdate() > 0) return true;
      if (expected != desired) return false;
      sql::PreparedStatement& q = stmt(c, kReplacedAlready);
      i = bind_metadata(q, bind_expiry(q, 1, options), options);
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

  // A parameter's share of a statement beyond its bytes (type, length).
  static constexpr std::size_t kParamBytes = 16;

  // The byte bound of one bulk statement: kBulkBytes, or less if the
  // server's max_allowed_packet is smaller than twice that.
  std::size_t batch_bytes() const {
    const std::int64_t packet = max_packet_.load(std::memory_order_relaxed);
    if (packet <= 0) return kBulkBytes;
    return std::min(kBulkBytes, static_cast<std::size_t>(packet) / 2);
  }

  template <class KeyOf>
  static std::vector<std::size_t> key_order(std::size_t n, KeyOf key_of) {
    std::vector<std::size_t> order(n);
    for (std::size_t i = 0; i < n; ++i) order[i] = i;
    std::sort(order.begin(), order.end(),
              [&](std::size_t a, std::size_t b) { return key_of(a) < key_of(b); });
    return order;
  }

  // Runs `body` in one transaction if `needed` (one statement is atomic by
  // itself). A lock wait timeout rolls back only its statement, so any
  // failure rolls back the rest here before it goes on to the kit.
  template <class Body>
  static void in_transaction(Connection& c, bool needed, Body&& body) {
    if (!needed) {
      body();
      return;
    }
    std::unique_ptr<sql::Statement> s(c.conn->createStatement());
    s->execute("START TRANSACTION");
    auto roll_back = [&] {
      try {
        s->execute("ROLLBACK");
      } catch (const sql::SQLException&) {
        // The connection is gone, and with it the transaction.
      }
    };
    try {
      body();
      s->execute("COMMIT");
    } catch (const sql::SQLException& e) {
      // A lost connection has lost its transaction; a ROLLBACK would only
      // wait for command_timeout again.
      if (!is_connection_failure(e.getErrorCode())) roll_back();
      throw;
    } catch (...) {
      roll_back();
      throw;
    }
  }

  sql::PreparedStatement& bulk_stmt(Connection& c, Bulk which, std::size_t rows) {
    auto& slot = c.bulk[{which, rows}];
    if (!slot) slot.reset(c.conn->prepareStatement(bulk_text(options_.table, which, rows)));
    return *slot;
  }

  sql::PreparedStatement& stmt(Connection& c, Stmt which) {
    auto& slot = c.stmts[which];
    if (!slot) slot.reset(c.conn->prepareStatement(texts_[which]));
    return *slot;
  }

  // One write per sweep_interval also deletes up to sweep_batch expired rows
  // through the expires_at index; a full batch lets the next write go on at
  // once, so a backlog drains batch by batch without a full scan.
  void maybe_sweep(Connection& c) {
    sweep_.run_if_due([&] {
      try {
        if (!c.sweep) c.sweep.reset(c.conn->prepareStatement(sweep_text_));
        return c.sweep->executeUpdate() >= static_cast<int>(options_.sweep_batch);
      } catch (const sql::SQLException& e) {
        // The caller's write already committed, so its result stands; a
        // failed sweep is tried again later.
        if (is_connection_failure(e.getErrorCode())) c.broken = true;
        return false;
      }
    });
  }

  // Opens a connection with this store's session settings, and on the very
  // first one creates the table (or checks the one there) and reads
  // max_allowed_packet. The pool calls it outside its lock.
  std::unique_ptr<Connection> connect() {
    auto c = std::make_unique<Connection>();
    const SteadyClock::time_point started = SteadyClock::now();
    try {
      c->conn = open_connection(options_, timeouts_);
    } catch (const sql::SQLException& e) {
      const milliseconds took = since(started);
      const int number = e.getErrorCode();
      if (is_connection_failure(number) &&
          ran_into(took, std::min(timeouts_.connect, timeouts_.read))) {
        throw connect_error(ServerError("connecting to " + server_ + " timed out after " +
                                            ms(took) + " (connect_timeout " +
                                            ms(timeouts_.connect) + "): " + describe_exception(e),
                                        number, true));
      }
      throw connect_error(
          ServerError("cannot connect to " + server_ + ": " + describe_exception(e), number));
    }
    const SteadyClock::time_point connected = SteadyClock::now();
    try {
      c->conn->setAutoCommit(true);
      std::unique_ptr<sql::Statement> s(c->conn->createStatement());
      // A lock wait shorter than command_timeout, so that a blocked statement
      // fails cleanly instead of losing the connection.
      s->execute(session_setup_text(whole_seconds(options_.lock_timeout)));
      if (!ready_.load(std::memory_order_acquire)) prepare_schema(*c->conn, *s);
    } catch (const sql::SQLException& e) {
      const milliseconds took = since(connected);
      const int number = e.getErrorCode();
      if (is_connection_failure(number) && ran_into(took, timeouts_.read)) {
        throw connect_error(ServerError("reading from " + server_ + " timed out after " + ms(took) +
                                            " while setting up a new connection (command_timeout " +
                                            ms(timeouts_.read) + "): " + describe_exception(e),
                                        number, true));
      }
      throw connect_error(ServerError(
          "setting up a connection to " + server_ + ": " + describe_exception(e), number));
    }
    c->last_used = SteadyClock::now();
    return c;
  }

  void prepare_schema(sql::Connection& conn, sql::Statement& s) {
    std::lock_guard lock(schema_mutex_);
    if (ready_.load(std::memory_order_relaxed)) return;
    try {
      s.execute(create_table_text(options_.table));
    } catch (const sql::SQLException& e) {
      if (e.getErrorCode() == kKeyTooLong) {
        fail(ErrorCode::internal,
             "cannot create table `" + options_.table + "`: " + describe_exception(e) + "; the " +
                 std::to_string(kMaxEncodedKeyBytes) +
                 "-byte primary key needs InnoDB with ROW_FORMAT=DYNAMIC and 16 KiB pages");
      }
      throw;
    }
    if (needs_upgrade(read_layout(s))) {
      // Two processes may find layout 1 at once: the upgrade lock lets one
      // ALTER; the other then reads layout 2 and leaves it alone.
      with_upgrade_lock(conn, [&] {
        const Layout layout = read_layout(s);
        if (!needs_upgrade(layout)) return;
        s.execute(layout.columns == 1 ? upgrade_table_text(options_.table)
                                      : stamp_table_text(options_.table));
      });
      const Layout upgraded = read_layout(s);
      if (needs_upgrade(upgraded)) {
        fail(ErrorCode::internal, "table `" + options_.table + "` still has layout version " +
                                      std::to_string(upgraded.version) + " after its upgrade");
      }
    }
    std::unique_ptr<sql::ResultSet> rs(s.executeQuery("SELECT @@max_allowed_packet"));
    if (rs->next()) max_packet_.store(rs->getInt64(1));
    ready_.store(true, std::memory_order_release);
  }

  // What a table is: its recorded layout version (0: no record, which is
  // how layout 1 was written) and which layout its columns are (1 or 2;
  // 0: neither, a foreign table).
  struct Layout {
    int version = 0;
    int columns = 0;
    std::string found;  // its columns, for an error message
  };

  // SHOW CREATE TABLE and SHOW COLUMNS (not information_schema) find the
  // table whatever lower_case_table_names says.
  Layout read_layout(sql::Statement& s) const {
    Layout layout;
    {
      std::unique_ptr<sql::ResultSet> rs(
          s.executeQuery("SHOW CREATE TABLE `" + options_.table + "`"));
      if (rs->next()) {
        // The table's own comment is the last COMMENT='...' (a column
        // comment is written COMMENT '...', without '=').
        const std::string ddl = rs->getString(2);
        const std::string_view marker = "COMMENT='";
        if (const std::size_t at = ddl.rfind(marker); at != std::string::npos) {
          const std::size_t from = at + marker.size();
          const std::size_t to = ddl.find('\'', from);
          if (to != std::string::npos) {
            layout.version = parse_layout_comment(std::string_view(ddl).substr(from, to - from));
          }
        }
      }
    }
    static constexpr std::array<std::pair<std::string_view, std::string_view>, 4> kExpected{
        {{"k", "varbinary"}, {"v", "longblob"}, {"expires_at", "bigint"}, {"metadata", "blob"}}};
    std::unique_ptr<sql::ResultSet> rs(
        s.executeQuery("SHOW COLUMNS FROM `" + options_.table + "`"));
    std::size_t columns = 0;
    std::size_t matched = 0;  // of the first `columns` expected ones, in any order
    std::vector<std::pair<std::string, std::string>> seen;
    while (rs->next()) {
      std::string field = rs->getString("Field");
      std::string type = rs->getString("Type");
      layout.found += (layout.found.empty() ? "" : ", ") + field + " " + type;
      seen.emplace_back(std::move(field), std::move(type));
      ++columns;
    }
    for (const auto& [field, type] : seen) {
      for (std::size_t i = 0; i < std::min(columns, kExpected.size()); ++i) {
        const auto& [name, type_prefix] = kExpected[i];
        if (field == name && type.compare(0, type_prefix.size(), type_prefix) == 0) ++matched;
      }
    }
    if (matched == columns && columns == 3) layout.columns = 1;
    if (matched == columns && columns == 4) layout.columns = 2;
    return layout;
  }

  // Whether the table needs an upgrade to kLayoutVersion; throws if it is
  // newer than that or not a kvstore table at all. CREATE TABLE IF NOT
  // EXISTS leaves a table someone else made alone; one with other columns
  // would fail every statement with "Unknown column", so it is refused here
  // with what it has and what it needs (and never ALTERed).
  bool needs_upgrade(const Layout& layout) const {
    if (layout.version > kLayoutVersion) {
      fail(ErrorCode::unsupported,
           "table `" + options_.table + "` in database `" + options_.database +
               "`: its kvstore layout version " + std::to_string(layout.version) +
               " is newer than this kvstore supports (" + std::to_string(kLayoutVersion) +
               "); use a newer kvstore or another table (?table=)");
    }
    if (layout.columns == 0 || (layout.columns == 1 && layout.version == kLayoutVersion)) {
      fail(ErrorCode::invalid_argument, not_our_table("its columns are (" + layout.found + ")"));
    }
    return layout.columns == 1 || layout.version < kLayoutVersion;
  }

  // Runs `body` holding this table's upgrade lock (GET_LOCK: a server-wide
  // named lock, released at the end or when the connection closes).
  template <class Body>
  void with_upgrade_lock(sql::Connection& conn, Body&& body) {
    const int wait = whole_seconds(options_.lock_timeout);
    {
      std::unique_ptr<sql::PreparedStatement> lock(conn.prepareStatement(upgrade_lock_text(wait)));
      lock->setString(1, options_.table);
      std::unique_ptr<sql::ResultSet> rs(lock->executeQuery());
      if (!rs->next() || rs->isNull(1) || rs->getInt(1) != 1) {
        throw Error(ErrorCode::timeout,
                    "another process held the upgrade lock of table `" + options_.table +
                        "` for longer than lock_timeout (" + std::to_string(wait) + " s)",
                    kDriverName, true);
      }
    }
    auto unlock = [&] {
      std::unique_ptr<sql::PreparedStatement> u(conn.prepareStatement(upgrade_unlock_text()));
      u->setString(1, options_.table);
      std::unique_ptr<sql::ResultSet> rs(u->executeQuery());
    };
    try {
      body();
    } catch (...) {
      try {
        unlock();
      } catch (const sql::SQLException&) {
        // The connection is gone, and with it the lock.
      }
      throw;
    }
    unlock();
  }

  // Someone dropped the table after we created it: create it again. The
  // statements prepared against the old table are stale on every connection.
  void recreate_table(Connection& c) {
    ready_.store(false);
    c.sweep.reset();
    c.bulk.clear();
    for (auto& s : c.stmts) s.reset();
    std::unique_ptr<sql::Statement> s(c.conn->createStatement());
    prepare_schema(*c.conn, *s);
    pool_.clear_idle();
  }

  std::string not_our_table(const std::string& what) const {
    return "table `" + options_.table + "` in database `" + options_.database +
           "` is not a kvstore table: " + what +
           "; kvstore needs exactly the columns k VARBINARY, v LONGBLOB, expires_at BIGINT, "
           "metadata BLOB (layout 2; a table with only the first three is layout 1 and is "
           "upgraded in place; see docs/drivers/mysql.md); choose another table with ?table= or "
           "drop this one";
  }

  const Options options_;
  const std::string server_;
  const ClientTimeouts timeouts_;
  const std::array<std::string, kStmtCount> texts_;
  const std::string sweep_text_;
  const ErrorClassifier classifier_ = classify;
  SweepThrottle sweep_;
  std::mutex schema_mutex_;
  std::atomic<bool> ready_{false};
  std::atomic<std::int64_t> max_packet_{0};
  ConnectionPool<Connection> pool_;  // last: its connections go before what connect() uses
};

}  // namespace

std::unique_ptr<KvStore> create(const Options& options) {
  validate(options);
  try {
    return std::make_unique<KvStore>(std::make_unique<MysqlStore>(options), options.store);
  } catch (const Error& e) {
    if (!e.driver().empty()) throw;
    throw e.with_driver(kDriverName);
  }
}

std::unique_ptr<Driver> open(Url& url) {
  Options options = options_from_url(url);
  // The registry checks this too; a direct caller gets the same answer.
  url.reject_unknown_params(kDriverName);
  return std::make_unique<MysqlStore>(std::move(options));
}

}  // namespace kvstore::mysql
