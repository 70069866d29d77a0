// PostgreSQL driver tests beyond the shared conformance suite. They need the
// server in KVSTORE_TEST_POSTGRES_URL (scripts/test-services.sh start).
#include <arpa/inet.h>
#include <dirent.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <kvstore/driver.h>
#include <kvstore/key_encoding.h>
#include <kvstore/kvstore.h>
#include <kvstore/postgres.h>

#include <catch2/catch.hpp>
#include <pqxx/pqxx>
#include "fault_proxy.h"
#include "store_helpers.h"
#include "test_services.h"

namespace {

using namespace std::chrono_literals;
using kvstore::ErrorCode;
using kvstore::Value;

std::string server_url() {
  const char* url = std::getenv("KVSTORE_TEST_POSTGRES_URL");
  if (url == nullptr || *url == '\0') FAIL("KVSTORE_TEST_POSTGRES_URL is not set");
  return url;
}

std::string fresh_table() {
  static std::atomic<int> counter{0};
  static const unsigned run = std::random_device{}();
  return "kvpg_" + std::to_string(::getpid()) + "_" + std::to_string(run % 100000) + "_" +
         std::to_string(counter++);
}

std::string url_with(const std::string& params) {
  std::string url = server_url();
  return url + (url.find('?') == std::string::npos ? "?" : "&") + params;
}

std::string percent_encode(const std::string& text) {
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '_' || c == '.' || c == '-') {
      out += static_cast<char>(c);
    } else {
      char buffer[4];
      std::snprintf(buffer, sizeof buffer, "%%%02X", c);
      out += buffer;
    }
  }
  return out;
}

ErrorCode code_of(const std::function<void()>& call) {
  try {
    call();
  } catch (const kvstore::Error& e) {
    INFO(e.what());
    CHECK(e.driver() == "postgres");
    return e.code();
  }
  FAIL("no kvstore::Error was thrown");
  return ErrorCode::internal;
}

}  // namespace

TEST_CASE("postgres driver: url: kvstore and libpq parameters are taken and unknown ones rejected",
          "[url]") {
  // open() does no I/O, so these need no server.
  const std::string base = "postgres://u:secret@127.0.0.1:1/db";
  CHECK_NOTHROW(kvstore::open(base + "?table=s.t&pool_size=2&connect_timeout=1500ms"
                                     "&statement_timeout=5s&pool_timeout=1s&sweep_interval=0"
                                     "&sweep_batch=10&sslmode=disable&application_name=x"
                                     "&keepalives=1&client_encoding=utf8"));
  CHECK_NOTHROW(kvstore::open("postgresql:///db?host=/tmp&connect_timeout=3"));
  CHECK(code_of([&] { kvstore::open(base + "?no_such=1"); }) == ErrorCode::invalid_argument);
  CHECK(code_of([&] { kvstore::open(base + "?client_encoding=LATIN1"); }) ==
        ErrorCode::invalid_argument);
  CHECK(code_of([&] { kvstore::open(base + "?table=a.b.c"); }) == ErrorCode::invalid_argument);
  CHECK(code_of([&] { kvstore::open(base + "?table=" + std::string(64, 'x')); }) ==
        ErrorCode::invalid_argument);
  CHECK(code_of([&] { kvstore::open(base + "?pool_size=0"); }) == ErrorCode::invalid_argument);
  CHECK(code_of([&] { kvstore::open(base + "?connect_timeout=soon"); }) ==
        ErrorCode::invalid_argument);
  try {
    kvstore::open(base + "?no_such=1");
  } catch (const kvstore::Error& e) {
    CHECK(std::string(e.what()).find("secret") == std::string::npos);
  }
}

TEST_CASE("postgres driver: errors: nothing listening gives unavailable within the connect timeout",
          "[errors]") {
  auto store = kvstore::open("postgres://kvstore:secret@127.0.0.1:" +
                             std::to_string(test_support::unused_loopback_port()) +
                             "/kvstore?connect_timeout=2s");
  const auto start = std::chrono::steady_clock::now();
  try {
    store->get({"k"});
    FAIL("get succeeded without a server");
  } catch (const kvstore::Error& e) {
    CHECK(e.code() == ErrorCode::unavailable);
    CHECK(e.retryable());
    CHECK(std::string(e.what()).find("secret") == std::string::npos);
  }
  CHECK(std::chrono::steady_clock::now() - start < 3s);
}

TEST_CASE("postgres driver: errors: wrong password is permission_denied", "[errors]") {
  std::string url = server_url();
  const auto at = url.find(":kvstore@");
  REQUIRE(at != std::string::npos);
  url.replace(at, 9, ":wrong-pw@");
  auto store = kvstore::open(url);
  CHECK(code_of([&] { store->get({"k"}); }) == ErrorCode::permission_denied);
}

TEST_CASE("postgres driver: errors: statement_timeout gives timeout and the store stays usable",
          "[errors]") {
  const std::string table = fresh_table();
  auto store = kvstore::open(url_with("table=" + table + "&statement_timeout=200ms"));
  store->set({"locked"}, 1);
  pqxx::connection raw(server_url());
  pqxx::work holder(raw);
  holder.exec("SELECT * FROM " + holder.quote_name(table) + " FOR UPDATE");
  CHECK(code_of([&] { store->set({"locked"}, 2); }) == ErrorCode::timeout);
  holder.abort();
  store->set({"locked"}, 3);
  CHECK(store->get({"locked"}) == Value(3));
}

TEST_CASE("postgres driver: schema: table names are quoted and schema-qualified names work",
          "[schema]") {
  pqxx::connection raw(server_url());
  const std::string schema = fresh_table() + "_schema";
  {
    pqxx::nontransaction tx(raw);
    tx.exec("CREATE SCHEMA " + tx.quote_name(schema));
    tx.exec("CREATE TABLE IF NOT EXISTS kvpg_sentinel (x int)");
  }
  SECTION("schema.table") {
    auto store = kvstore::open(url_with("table=" + schema + ".entries"));
    store->set({"a"}, "b");
    CHECK(store->get({"a"}) == Value("b"));
    pqxx::nontransaction tx(raw);
    CHECK(tx.exec1("SELECT count(*) FROM information_schema.tables WHERE table_schema = " +
                   tx.quote(schema) + " AND table_name = 'entries'")[0]
              .as<int>() == 1);
  }
  SECTION("an injection attempt is just a strange table name") {
    const std::string evil = "kv\"; DROP TABLE kvpg_sentinel; --";
    auto store = kvstore::open(url_with("table=" + percent_encode(schema + "." + evil)));
    store->set({"x"}, 1);
    CHECK(store->get({"x"}) == Value(1));
    pqxx::nontransaction tx(raw);
    CHECK(tx.exec1("SELECT to_regclass('kvpg_sentinel') IS NOT NULL")[0].as<bool>());
    CHECK(tx.exec1("SELECT count(*) FROM " + tx.quote_name(schema) + "." + tx.quote_name(evil))[0]
              .as<int>() == 1);
  }
  pqxx::nontransaction tx(raw);
  tx.exec("DROP SCHEMA " + tx.quote_name(schema) + " CASCADE");
}

TEST_CASE("postgres driver: schema: many stores creating one table at once all succeed",
          "[schema][concurrency]") {
  const std::string url = url_with("table=" + fresh_table());
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      try {
        auto store = kvstore::open(url);
        store->set({"t", std::to_string(i)}, i);
      } catch (const std::exception& e) {
        ++failures;
        UNSCOPED_INFO(e.what());
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(failures == 0);
  auto store = kvstore::open(url);
  int count = 0;
  for (const auto& entry : store->list({"t"})) {
    (void)entry;
    ++count;
  }
  CHECK(count == 8);
}

TEST_CASE("postgres driver: list: a prefix list is an index range scan on 100000 rows",
          "[list][explain]") {
  const std::string table = fresh_table();
  auto store = kvstore::open(url_with("table=" + table));
  store->set({"warm"}, 0);  // creates the table
  pqxx::connection raw(server_url());
  pqxx::nontransaction tx(raw);
  const std::string t = tx.quote_name(table);
  // Keys {"p<i % 100>", "<i>"} in kvstore's encoding (each component ends in 0x01).
  tx.exec("INSERT INTO " + t +
          " (k, v) SELECT 'p' || (i % 100) || chr(1) || lpad(i::text, 6, '0') || chr(1),"
          " '{\"i\":' || i || '}' FROM generate_series(1, 100000) AS i");
  tx.exec("ANALYZE " + t);

  const kvstore::KeyRange range = kvstore::list_range({"p17"}, std::nullopt);
  REQUIRE(range.end);
  const std::string query = "SELECT k, v FROM " + t + " WHERE k >= $1 AND k < $2 AND " +
                            "(expires_at IS NULL OR expires_at > now()) ORDER BY k LIMIT $3";
  auto plan_of = [&](const std::string& explain) {
    std::string plan;
    for (const auto& row : tx.exec(explain)) plan += row[0].c_str() + std::string("\n");
    return plan;
  };
  tx.exec("PREPARE kvpg_list(text, text, bigint) AS " + query);
  const std::string args = "(" + tx.quote(range.begin) + ", " + tx.quote(*range.end) + ", 256)";
  // The driver's sessions run prepared statements with their generic plan
  // (plan_cache_mode = force_generic_plan): an ordered walk of the primary key.
  tx.exec("SET plan_cache_mode = force_generic_plan");
  const std::string generic = plan_of("EXPLAIN EXECUTE kvpg_list" + args);
  std::printf(
      "EXPLAIN EXECUTE (generic plan, as the driver runs it), prefix list on 100000 rows:\n%s\n",
      generic.c_str());
  INFO("generic plan:\n" << generic);
  CHECK(generic.find("Index Scan using " + table + "_pkey") != std::string::npos);
  CHECK(generic.find("Seq Scan") == std::string::npos);
  CHECK(generic.find("Sort") == std::string::npos);
  // Even a plan for these exact values reads the range through the index. The
  // planner may pick an ordered index scan ("Index Scan using <pkey> on <table>")
  // or a bitmap scan plus sort ("Bitmap Index Scan on <pkey>") depending on the
  // statistics ANALYZE sampled; both read only the range.
  tx.exec("SET plan_cache_mode = force_custom_plan");
  const std::string custom = plan_of("EXPLAIN EXECUTE kvpg_list" + args);
  std::printf("EXPLAIN EXECUTE (custom plan):\n%s\n", custom.c_str());
  INFO("custom plan:\n" << custom);
  const bool ordered_walk = custom.find("Index Scan using " + table + "_pkey") != std::string::npos;
  const bool bitmap_scan =
      custom.find("Bitmap Index Scan on " + table + "_pkey") != std::string::npos;
  CHECK((ordered_walk || bitmap_scan));
  CHECK(custom.find("Seq Scan") == std::string::npos);

  // The driver's own EXPLAIN-free view: the list is complete and ordered.
  std::vector<std::string> seen;
  for (const auto& entry : store->list({"p17"})) {
    REQUIRE(entry.key.size() == 2);
    seen.push_back(entry.key[1]);
  }
  CHECK(seen.size() == 1000);
  CHECK(std::is_sorted(seen.begin(), seen.end()));
  tx.exec("DROP TABLE " + t);
}

TEST_CASE("postgres driver: ttl: the sweep removes expired rows in bounded batches",
          "[ttl][sweep]") {
  const std::string table = fresh_table();
  auto store = kvstore::open(url_with("table=" + table + "&sweep_interval=1ms&sweep_batch=100"));
  pqxx::connection raw(server_url());
  store->set({"live"}, true);
  {
    pqxx::nontransaction tx(raw);
    tx.exec("INSERT INTO " + tx.quote_name(table) +
            " (k, v, expires_at) SELECT 'dead' || chr(1) || i || chr(1), 'null',"
            " now() - interval '1 second' FROM generate_series(1, 350) AS i");
  }
  auto rows = [&] {
    pqxx::nontransaction tx(raw);
    return tx.exec1("SELECT count(*) FROM " + tx.quote_name(table))[0].as<int>();
  };
  CHECK(rows() == 351);
  CHECK(store->get({"dead", "1"}) == std::nullopt);  // invisible before removal
  std::vector<int> counts;
  for (int i = 0; i < 6; ++i) {
    std::this_thread::sleep_for(5ms);
    store->set({"w", std::to_string(i)}, i);
    counts.push_back(rows());
  }
  // Each sweep deletes at most one batch; the backlog is gone after four.
  CHECK(counts[0] >= 251 + 1);
  CHECK(counts.back() == 1 + 6);
  CHECK(store->get({"live"}) == Value(true));
}

TEST_CASE("postgres driver: cas: creators racing over an expired row give one winner",
          "[cas][concurrency]") {
  auto store = kvstore::open(url_with("table=" + fresh_table()));
  for (int round = 0; round < 20; ++round) {
    const kvstore::KvKey key{"expired", std::to_string(round)};
    store->set(key, "old", {1ms});
    std::this_thread::sleep_for(3ms);
    std::atomic<int> winners{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < 6; ++i) {
      threads.emplace_back([&, i] {
        if (store->cas(key, std::nullopt, Value(i))) ++winners;
      });
    }
    for (auto& t : threads) t.join();
    CHECK(winners == 1);
  }
}

TEST_CASE("postgres driver: restart: the same store keeps working across a server restart",
          "[restart]") {
  auto store = kvstore::open(url_with("table=" + fresh_table() + "&pool_size=4"));
  // Several pooled connections, all of which the restart breaks.
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] { store->set({"before", std::to_string(i)}, i); });
  }
  for (auto& t : threads) t.join();

  test_support::service_control("restart", "postgres");

  CHECK(store->get({"before", "0"}) == Value(0));
  store->set({"after"}, "restart");
  CHECK(store->cas({"after"}, Value("restart"), Value("swapped")));
  int listed = 0;
  for (const auto& entry : store->list({"before"})) {
    (void)entry;
    ++listed;
  }
  CHECK(listed == 4);
  CHECK(store->get({"after"}) == Value("swapped"));

  // A cas is not retried blindly (it may have applied), so the dead pooled
  // connections must be noticed before it is sent.
  test_support::service_control("restart", "postgres");
  CHECK(store->cas({"after"}, Value("swapped"), Value("again")));
  CHECK(store->get({"after"}) == Value("again"));
}

TEST_CASE("postgres driver: schema: a table dropped behind the store's back is recreated",
          "[schema]") {
  const std::string table = fresh_table();
  auto store = kvstore::open(url_with("table=" + table));
  store->set({"k"}, 1);
  {
    pqxx::connection raw(server_url());
    pqxx::nontransaction tx(raw);
    tx.exec("DROP TABLE " + tx.quote_name(table));
  }
  CHECK(store->get({"k"}) == std::nullopt);
  CHECK(store->cas({"k"}, std::nullopt, Value(2)));
  CHECK(store->get({"k"}) == Value(2));
}

namespace {

kvstore::Error error_of(const std::function<void()>& call) {
  try {
    call();
  } catch (const kvstore::Error& e) {
    return e;
  }
  FAIL("no kvstore::Error was thrown");
  return kvstore::Error(ErrorCode::internal, "unreachable");
}

int listed(kvstore::KvStore& store) {
  int n = 0;
  for (const auto& entry : store.list()) {
    (void)entry;
    ++n;
  }
  return n;
}

std::size_t count_of(const std::string& text, const std::string& part) {
  std::size_t n = 0;
  for (std::size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("postgres driver: url: every duration parameter has a range checked at open", "[url]") {
  const std::string base = "postgres://u:secret@127.0.0.1:1/db?";
  // Bare digits are seconds, as in libpq, and must fit the same 1ms..1h.
  for (const char* value : {"0", "3601", "99999999999", "2h", "0ms", "-1"}) {
    INFO("connect_timeout=" << value);
    CHECK(code_of([&] { kvstore::open(base + "connect_timeout=" + value); }) ==
          ErrorCode::invalid_argument);
  }
  CHECK_NOTHROW(kvstore::open(base + "connect_timeout=3600"));
  CHECK_NOTHROW(kvstore::open(base + "connect_timeout=1ms"));
  for (const char* value : {"0", "2h", "99999999h", "soon"}) {
    INFO("command_timeout=" << value);
    CHECK(code_of([&] { kvstore::open(base + "command_timeout=" + value); }) ==
          ErrorCode::invalid_argument);
  }
  CHECK_NOTHROW(kvstore::open(base + "command_timeout=1ms"));
  CHECK_NOTHROW(kvstore::open(base + "command_timeout=1h"));
  for (const char* name : {"statement_timeout", "pool_timeout", "sweep_interval"}) {
    INFO(name);
    CHECK(code_of([&] { kvstore::open(base + name + "=99999999h"); }) ==
          ErrorCode::invalid_argument);
  }
}

TEST_CASE("postgres driver: url: a table name that is not UTF-8 is rejected at open", "[url]") {
  const std::string base = "postgres://u:secret@127.0.0.1:1/db?table=";
  for (const char* table : {"%FF", "s.%C3", "%ED%A0%80", "a%00b"}) {
    INFO(table);
    const kvstore::Error e = error_of([&] { kvstore::open(base + table); });
    CHECK(e.code() == ErrorCode::invalid_argument);
    CHECK_FALSE(e.retryable());
    CHECK(e.driver() == "postgres");
  }
  // 63 bytes of UTF-8 is the limit, whatever the characters.
  std::string snowmen;
  for (int i = 0; i < 21; ++i) snowmen += "%E2%98%83";
  CHECK_NOTHROW(kvstore::open(base + snowmen));
  CHECK(code_of([&] { kvstore::open(base + snowmen + "x"); }) == ErrorCode::invalid_argument);
  CHECK(code_of([&] { kvstore::open(base.substr(0, base.size() - 6) + "options=a%00b"); }) ==
        ErrorCode::invalid_argument);
}

TEST_CASE(
    "postgres driver: errors: a configuration the server or libpq rejects is "
    "invalid_argument, never retryable",
    "[errors]") {
  for (const char* params :
       {"options=-c", "options=-c%20no_such_setting%3D1", "options=-c%20statement_timeout%3Dsoon",
        "sslmode=bogus", "keepalives=many"}) {
    INFO(params);
    auto store = kvstore::open(url_with(std::string(params) + "&table=" + fresh_table()));
    const kvstore::Error e = error_of([&] { store->get({"k"}); });
    INFO(e.what());
    CHECK(e.code() == ErrorCode::invalid_argument);
    CHECK_FALSE(e.retryable());
    CHECK(std::string(e.what()).find("cannot connect to") != std::string::npos);
    CHECK(std::string(e.what()).find(":kvstore@") == std::string::npos);  // the password
    CHECK(std::string(e.what()).find("(SQLSTATE )") == std::string::npos);
  }
}

TEST_CASE("postgres driver: errors: refused credentials are permission_denied, not retryable",
          "[errors]") {
  std::string url = server_url();
  const auto at = url.find("//kvstore:kvstore@");
  REQUIRE(at != std::string::npos);
  for (const char* credentials : {"//kvstore:wrong-pw@", "//no_such_user:kvstore@"}) {
    INFO(credentials);
    std::string bad = url;
    bad.replace(at, std::string("//kvstore:kvstore@").size(), credentials);
    auto store = kvstore::open(bad);
    const kvstore::Error e = error_of([&] { store->set({"k"}, 1); });
    INFO(e.what());
    CHECK(e.code() == ErrorCode::permission_denied);
    CHECK_FALSE(e.retryable());
    CHECK(std::string(e.what()).find("SQLSTATE 28") != std::string::npos);
    CHECK(e.native_code().rfind("28", 0) == 0);
    CHECK(e.native_code().size() == 5);
    CHECK(std::string(e.what()).find("wrong-pw") == std::string::npos);
  }
}

TEST_CASE("postgres driver: schema: an existing table with other columns is invalid_argument",
          "[schema]") {
  const std::string table = fresh_table();
  pqxx::connection raw(server_url());
  {
    pqxx::nontransaction tx(raw);
    tx.exec("CREATE TABLE " + tx.quote_name(table) + " (a int)");
  }
  auto store = kvstore::open(url_with("table=" + table));
  for (int round = 0; round < 2; ++round) {  // the check runs again, it is not cached as passed
    const kvstore::Error e = error_of([&] { store->set({"k"}, 1); });
    const std::string what = e.what();
    INFO(what);
    CHECK(e.code() == ErrorCode::invalid_argument);
    CHECK_FALSE(e.retryable());
    CHECK(what.find(table) != std::string::npos);
    CHECK(what.find("a integer") != std::string::npos);
    CHECK(what.find("k text COLLATE \"C\", v text COLLATE \"C\", expires_at timestamp with time "
                    "zone") != std::string::npos);
    CHECK(count_of(what, "LINE 1") <= 1);
    CHECK(what.find("(SQLSTATE )") == std::string::npos);
    CHECK(what.find(":kvstore@") == std::string::npos);
  }
  CHECK(code_of([&] { store->get({"k"}); }) == ErrorCode::invalid_argument);
  // The right columns without a primary key cannot serve ON CONFLICT either.
  const std::string keyless = fresh_table();
  {
    pqxx::nontransaction tx(raw);
    tx.exec("CREATE TABLE " + tx.quote_name(keyless) +
            " (k text COLLATE \"C\", v text COLLATE \"C\" NOT NULL, expires_at timestamptz)");
  }
  auto keyless_store = kvstore::open(url_with("table=" + keyless));
  const kvstore::Error e = error_of([&] { keyless_store->set({"k"}, 1); });
  INFO(e.what());
  CHECK(e.code() == ErrorCode::invalid_argument);
  CHECK(std::string(e.what()).find("primary key") != std::string::npos);
  pqxx::nontransaction tx(raw);
  tx.exec("DROP TABLE " + tx.quote_name(table) + ", " + tx.quote_name(keyless));
}

namespace {

// Stops the test PostgreSQL server (the postmaster and every backend, by the
// pids its data directory records) and resumes it when destroyed, so a failing
// test never leaves it stopped. A forked child resumes it too after
// `at_most`, in case this process hangs or is killed before the destructor.
class ServerStop {
 public:
  explicit ServerStop(std::chrono::seconds at_most) {
    const std::string pid_file = test_support::services_dir() + "/postgres/data/postmaster.pid";
    std::ifstream in(pid_file);
    int postmaster = 0;
    in >> postmaster;
    INFO(pid_file);
    REQUIRE(postmaster > 1);
    try {
      pids_.push_back(postmaster);
      REQUIRE(::kill(postmaster, SIGSTOP) == 0);  // first: it forks no new backend after this
      const std::string command = "pgrep -P " + std::to_string(postmaster);
      FILE* children = ::popen(command.c_str(), "r");
      REQUIRE(children != nullptr);
      int pid = 0;
      while (std::fscanf(children, "%d", &pid) == 1) {
        if (::kill(pid, SIGSTOP) == 0) pids_.push_back(pid);
      }
      ::pclose(children);
      REQUIRE(pids_.size() > 1);  // the checkpointer at least
      safety_ = ::fork();
      REQUIRE(safety_ >= 0);
      if (safety_ == 0) {
        // Only async-signal-safe calls in the child of a threaded process.
        timespec wait{static_cast<time_t>(at_most.count()), 0};
        while (::nanosleep(&wait, &wait) != 0) {
        }
        for (auto it = pids_.rbegin(); it != pids_.rend(); ++it) ::kill(*it, SIGCONT);
        ::_exit(0);
      }
    } catch (...) {
      resume();
      throw;
    }
  }
  ~ServerStop() { resume(); }
  ServerStop(const ServerStop&) = delete;
  ServerStop& operator=(const ServerStop&) = delete;
  void resume() {
    for (auto it = pids_.rbegin(); it != pids_.rend(); ++it) ::kill(*it, SIGCONT);
    pids_.clear();
    if (safety_ > 0) {
      ::kill(safety_, SIGKILL);
      ::waitpid(safety_, nullptr, 0);
      safety_ = 0;
    }
  }

 private:
  std::vector<int> pids_;
  pid_t safety_ = 0;
};

}  // namespace

TEST_CASE(
    "postgres driver: deadlines: a stopped server gives timeout within command_timeout, "
    "and the store recovers",
    "[deadlines][restart]") {
  using Clock = std::chrono::steady_clock;
  const std::string url =
      url_with("table=" + fresh_table() + "&command_timeout=1s&connect_timeout=1s");
  // One store per call kind, each with a pooled connection: every kind meets
  // the stop in the middle of a statement.
  auto reader = kvstore::open(url);
  auto writer = kvstore::open(url);
  auto swapper = kvstore::open(url);
  auto lister = kvstore::open(url);
  writer->set({"k"}, 1);
  CHECK(reader->get({"k"}) == Value(1));
  CHECK_FALSE(swapper->cas({"k"}, Value(0), Value(2)));
  CHECK(listed(*lister) == 1);

  struct Sample {
    std::string call;
    double seconds;
    ErrorCode code;
    std::string what;
    bool outcome_unknown;
  };
  std::vector<Sample> samples;
  auto measure = [&](const std::string& name, const std::function<void()>& call) {
    const auto start = Clock::now();
    ErrorCode code = ErrorCode::internal;
    std::string what = "no error";
    bool unknown = false;
    try {
      call();
    } catch (const kvstore::Error& e) {
      code = e.code();
      what = e.what();
      unknown = e.outcome_unknown();
      CHECK(e.retryable());
    }
    samples.push_back(
        {name, std::chrono::duration<double>(Clock::now() - start).count(), code, what, unknown});
  };
  {
    ServerStop stop(20s);
    const auto stopped = Clock::now();
    measure("get (pooled)", [&] { reader->get({"k"}); });
    measure("set (pooled)", [&] { writer->set({"k"}, 3); });
    measure("cas (pooled)", [&] { swapper->cas({"k"}, Value(1), Value(4)); });
    measure("list (pooled)", [&] {
      for (const auto& entry : lister->list()) (void)entry;
    });
    while (Clock::now() - stopped < 6s) {
      measure("get (reconnect)", [&] { reader->get({"k"}); });
      measure("set (reconnect)", [&] { writer->set({"k"}, 5); });
    }
    stop.resume();
  }
  for (const Sample& s : samples) {
    std::printf("stopped server: %-16s %.3f s  %s\n", s.call.c_str(), s.seconds, s.what.c_str());
    INFO(s.call << " took " << s.seconds << " s: " << s.what);
    CHECK(s.seconds < 2.5);
    if (s.call.find("pooled") != std::string::npos) {
      // The statement was sent: only the watchdog can end it.
      CHECK(s.code == ErrorCode::timeout);
      CHECK(s.what.find("timed out after") != std::string::npos);
      CHECK(s.seconds > 0.9);
    } else {
      CHECK((s.code == ErrorCode::timeout || s.code == ErrorCode::unavailable));
      CHECK(s.what.find("timed out after") != std::string::npos);
    }
    CHECK(s.what.find(":kvstore@") == std::string::npos);
  }
  CHECK(samples[1].what.find("may or may not have been applied") != std::string::npos);
  // The cut set and cas say their outcome is unknown (the backend applies
  // them when it resumes); the reads have no outcome to lose.
  CHECK_FALSE(samples[0].outcome_unknown);
  CHECK(samples[1].outcome_unknown);
  CHECK(samples[2].outcome_unknown);
  CHECK_FALSE(samples[3].outcome_unknown);
  CHECK(samples.size() >= 6);

  // The same stores work again once the server runs, without reopening. The
  // cut set and cas were sent, so their backends may still apply them as they
  // resume: give them a moment, then accept either outcome.
  std::this_thread::sleep_for(300ms);
  const std::optional<Value> now = reader->get({"k"});
  INFO((now ? now->dump() : "absent"));
  CHECK((now == Value(1) || now == Value(3) || now == Value(4)));
  writer->set({"k"}, 6);
  CHECK(swapper->cas({"k"}, Value(6), Value(7)));
  CHECK(listed(*lister) == 1);
  CHECK(reader->get({"k"}) == Value(7));
}

namespace {

// A trigger on `table` that runs `body` (PL/pgSQL) before every write of a
// row whose value is the JSON text `value`.
void add_trigger(pqxx::connection& raw, const std::string& table, const std::string& value,
                 const std::string& body) {
  pqxx::nontransaction tx(raw);
  const std::string function = tx.quote_name(table + "_fn");
  tx.exec("CREATE FUNCTION " + function + "() RETURNS trigger LANGUAGE plpgsql AS $fn$ BEGIN " +
          "IF NEW.v = " + tx.quote(value) + " THEN " + body + " END IF; RETURN NEW; END $fn$");
  tx.exec("CREATE TRIGGER " + tx.quote_name(table + "_tr") + " BEFORE INSERT OR UPDATE ON " +
          tx.quote_name(table) + " FOR EACH ROW EXECUTE FUNCTION " + function + "()");
}

void drop_table(pqxx::connection& raw, const std::string& table) {
  pqxx::nontransaction tx(raw);
  tx.exec("DROP TABLE IF EXISTS " + tx.quote_name(table));
  tx.exec("DROP FUNCTION IF EXISTS " + tx.quote_name(table + "_fn") + "()");
}

}  // namespace

TEST_CASE("postgres driver: errors: native_code carries the server's SQLSTATE",
          "[errors][native]") {
  pqxx::connection raw(server_url());
  SECTION("statement_timeout: timeout, 57014") {
    const std::string table = fresh_table();
    auto store = kvstore::open(url_with("table=" + table + "&statement_timeout=200ms"));
    store->set({"k"}, 1);
    add_trigger(raw, table, "\"slow\"", "PERFORM pg_sleep(5);");
    const kvstore::Error e = error_of([&] { store->set({"k"}, "slow"); });
    INFO(e.what());
    CHECK(e.code() == ErrorCode::timeout);
    CHECK(e.native_code() == "57014");
    CHECK(e.retryable());
    CHECK(store->get({"k"}) == Value(1));
    drop_table(raw, table);
  }
  SECTION("lock_timeout (a libpq options pass-through): timeout, 55P03") {
    const std::string table = fresh_table();
    auto store = kvstore::open(url_with("table=" + table + "&options=-c%20lock_timeout%3D100ms"));
    store->set({"locked"}, 1);
    pqxx::connection holder_connection(server_url());
    pqxx::work holder(holder_connection);
    holder.exec("SELECT * FROM " + holder.quote_name(table) + " FOR UPDATE");
    const kvstore::Error e = error_of([&] { store->set({"locked"}, 2); });
    INFO(e.what());
    CHECK(e.code() == ErrorCode::timeout);
    CHECK(e.native_code() == "55P03");
    holder.abort();
    drop_table(raw, table);
  }
  SECTION("a serialization failure: conflict, 40001, retryable; a cas it rejected is retried") {
    const std::string table = fresh_table();
    auto store = kvstore::open(url_with("table=" + table));
    store->set({"warm"}, 0);  // creates the table
    {
      pqxx::nontransaction tx(raw);
      tx.exec("CREATE SEQUENCE " + tx.quote_name(table + "_seq"));
    }
    add_trigger(raw, table, "\"conflict\"",
                "RAISE EXCEPTION 'simulated' USING ERRCODE = 'serialization_failure';");
    const kvstore::Error e = error_of([&] { store->set({"k"}, "conflict"); });
    INFO(e.what());
    CHECK(e.code() == ErrorCode::conflict);
    CHECK(e.native_code() == "40001");
    CHECK(e.retryable());
    CHECK_FALSE(e.outcome_unknown());
    CHECK(store->get({"k"}) == std::nullopt);
    // Every other attempt fails: the rejected first attempt changed nothing,
    // so even a cas is sent again, once, and succeeds.
    {
      pqxx::nontransaction tx(raw);
      tx.exec("CREATE OR REPLACE FUNCTION " + tx.quote_name(table + "_fn") +
              "() RETURNS trigger LANGUAGE plpgsql AS $fn$ BEGIN IF NEW.v = '\"flaky\"' AND "
              "nextval(" +
              tx.quote(table + "_seq") +
              ") % 2 = 1 THEN RAISE EXCEPTION 'simulated' USING ERRCODE = "
              "'serialization_failure'; END IF; RETURN NEW; END $fn$");
    }
    CHECK(store->cas({"f"}, std::nullopt, Value("flaky")));
    CHECK(store->get({"f"}) == Value("flaky"));
    drop_table(raw, table);
    pqxx::nontransaction tx(raw);
    tx.exec("DROP SEQUENCE " + tx.quote_name(table + "_seq"));
  }
  SECTION("an unknown database: invalid_argument, 3D000, not retryable") {
    std::string url = server_url();
    const auto slash = url.find('/', url.find("//") + 2);
    REQUIRE(slash != std::string::npos);
    url = url.substr(0, slash) + "/no_such_database_kvpg";
    auto store = kvstore::open(url);
    const kvstore::Error e = error_of([&] { store->get({"k"}); });
    INFO(e.what());
    CHECK(e.code() == ErrorCode::invalid_argument);
    CHECK(e.native_code() == "3D000");
    CHECK_FALSE(e.retryable());
  }
}

TEST_CASE(
    "postgres driver: errors: a connection killed under a cas gives outcome_unknown, "
    "a set is repeated",
    "[errors][outcome]") {
  pqxx::connection raw(server_url());
  const std::string table = fresh_table();
  auto store = kvstore::open(url_with("table=" + table + "&pool_size=1"));
  store->set({"k"}, 1);
  add_trigger(raw, table, "\"slow\"", "PERFORM pg_sleep(0.5);");
  // Terminates the store's backend once it sleeps in the trigger.
  auto kill_sleeper = [&] {
    return std::thread([url = server_url()] {
      pqxx::connection killer(url);
      for (int i = 0; i < 200; ++i) {
        pqxx::nontransaction tx(killer);
        const pqxx::result r = tx.exec(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = "
            "'kvstore' AND wait_event = 'PgSleep'");
        if (!r.empty()) return;
        std::this_thread::sleep_for(10ms);
      }
    });
  };
  {
    std::thread killer = kill_sleeper();
    const kvstore::Error e = error_of([&] { store->cas({"k"}, Value(1), Value("slow")); });
    killer.join();
    INFO(e.what());
    CHECK(e.code() == ErrorCode::unavailable);
    CHECK(e.outcome_unknown());
    CHECK(e.retryable());
    CHECK(e.native_code() == "57P01");  // terminating connection due to administrator command
  }
  // The cas was rolled back with its backend; the store reconnects.
  CHECK(store->get({"k"}) == Value(1));
  {
    // A plain set is idempotent: the kit sends it again on a new connection.
    std::thread killer = kill_sleeper();
    CHECK_NOTHROW(store->set({"k"}, "slow"));
    killer.join();
    CHECK(store->get({"k"}) == Value("slow"));
  }
  drop_table(raw, table);
}

TEST_CASE("postgres driver: options: from_url gives every parameter as a typed field",
          "[options]") {
  const auto o = kvstore::postgres::Options::from_url(
      "postgresql://us%40er:p%40ss%3Aw%2Frd@db.example:6543/app?table=s.t&pool_size=3"
      "&pool_timeout=250ms&connect_timeout=2&command_timeout=3s&sweep_interval=0"
      "&sweep_batch=42&statement_timeout=0&sslmode=disable");
  CHECK(o.host == "db.example");
  CHECK(o.port == 6543);
  CHECK(o.user == "us@er");
  CHECK(o.password == "p@ss:w/rd");
  CHECK(o.dbname == "app");
  CHECK(o.table == "s.t");
  CHECK(o.connection.pool_size == 3);
  CHECK(o.connection.pool_timeout == 250ms);
  CHECK(o.connection.connect_timeout == 2s);  // bare digits are seconds, as in libpq
  CHECK(o.connection.command_timeout == 3s);
  CHECK(o.sweep.sweep_interval == 0ms);
  CHECK(o.sweep.sweep_batch == 42);
  CHECK(o.statement_timeout == 0ms);
  REQUIRE(o.libpq.size() == 1);
  CHECK(o.libpq[0] == std::pair<std::string, std::string>("sslmode", "disable"));

  // The shared defaults, the same in every driver.
  const auto d = kvstore::postgres::Options::from_url("postgres://h/db");
  CHECK(d.table == "kvstore");
  CHECK(d.connection.pool_size == 8);
  CHECK(d.connection.pool_timeout == 5s);
  CHECK(d.connection.connect_timeout == 5s);
  CHECK(d.connection.command_timeout == 10s);
  CHECK(d.sweep.sweep_interval == 1s);
  CHECK(d.sweep.sweep_batch == 500);
  CHECK(d.statement_timeout == 30s);

  for (const char* bad : {"postgres://h/db?no_such=1", "postgres://h/db?pool_size=0", "redis://h/0",
                          "postgres:db", "postgres://h/db?connect_timeout=0"}) {
    INFO(bad);
    CHECK(code_of([&] { kvstore::postgres::Options::from_url(bad); }) ==
          ErrorCode::invalid_argument);
  }
}

TEST_CASE("postgres driver: options: create() checks options without I/O and connects on first use",
          "[options]") {
  kvstore::postgres::Options o;
  o.host = "127.0.0.1";
  o.port = static_cast<std::uint16_t>(test_support::unused_loopback_port());
  o.password = "secret";
  o.connection.connect_timeout = 500ms;
  auto store = kvstore::postgres::create(o);  // nothing listens: no error yet
  const kvstore::Error e = error_of([&] { store->ping(); });
  CHECK(e.code() == ErrorCode::unavailable);
  CHECK(std::string(e.what()).find("secret") == std::string::npos);

  for (auto change : std::vector<std::function<void(kvstore::postgres::Options&)>>{
           [](auto& x) { x.connection.pool_size = 0; },
           [](auto& x) { x.connection.command_timeout = 2h; },
           [](auto& x) { x.sweep.sweep_batch = 0; },
           [](auto& x) { x.table = "a.b.c"; },
           [](auto& x) {
             x.libpq = {{"no_such_keyword", "1"}};
           },
           [](auto& x) {
             x.libpq = {{"client_encoding", "LATIN1"}};
           },
       }) {
    kvstore::postgres::Options bad = o;
    change(bad);
    CHECK(code_of([&] { kvstore::postgres::create(bad); }) == ErrorCode::invalid_argument);
  }
}

namespace {

// Sets the test role's password for the lifetime of the guard (a role may
// change its own password), restoring "kvstore" afterwards.
class PasswordChange {
 public:
  explicit PasswordChange(const std::string& password) : raw_(server_url()) { set(password); }
  ~PasswordChange() {
    try {
      set("kvstore");
    } catch (const std::exception& e) {
      std::fprintf(stderr, "could not restore the kvstore password: %s\n", e.what());
    }
  }
  PasswordChange(const PasswordChange&) = delete;
  PasswordChange& operator=(const PasswordChange&) = delete;

 private:
  void set(const std::string& password) {
    pqxx::nontransaction tx(raw_);
    tx.exec("ALTER ROLE kvstore PASSWORD " + tx.quote(password));
  }
  pqxx::connection raw_;
};

}  // namespace

TEST_CASE("postgres driver: options: typed Options carry max_value_size and list_page_size",
          "[options]") {
  const std::string table = fresh_table();
  const auto o = kvstore::postgres::Options::from_url(
      url_with("table=" + table + "&max_value_size=1KiB&list_page_size=2"));
  CHECK(o.store.max_value_bytes == std::optional<std::size_t>(1024));
  CHECK(o.store.list_page_size == std::optional<std::size_t>(2));
  test_support::check_small_store_settings(*kvstore::postgres::create(o), {"typed"});
  const auto plain = kvstore::postgres::create(kvstore::postgres::Options::from_url(server_url()));
  CHECK(plain->capabilities().max_value_bytes == kvstore::kDefaultMaxValueBytes);
  CHECK(plain->capabilities().list_page_size > 2);
  pqxx::connection raw(server_url());
  drop_table(raw, table);
}

TEST_CASE("postgres driver: options: a store from typed Options takes a password with @ : /",
          "[options]") {
  const std::string password = "p@ss:w/rd'\\ x";
  const std::string table = fresh_table();
  {
    PasswordChange change(password);
    kvstore::postgres::Options o = kvstore::postgres::Options::from_url(server_url());
    o.password = password;  // as typed: no percent-encoding
    o.table = table;
    o.connection.pool_size = 2;
    auto store = kvstore::postgres::create(o);
    CHECK_NOTHROW(store->ping());
    store->set({"a", "b"}, Value{{"x", 1}});
    CHECK(store->get({"a", "b"}) == Value{{"x", 1}});
    CHECK(store->cas({"a", "b"}, Value{{"x", 1}}, Value("y")));
    CHECK(listed(*store) == 1);
    // The old password is refused now: the store really used the new one.
    kvstore::postgres::Options old = o;
    old.password = "kvstore";
    const kvstore::Error e = error_of([&] { kvstore::postgres::create(old)->ping(); });
    CHECK(e.code() == ErrorCode::permission_denied);
    CHECK(e.native_code() == "28P01");
    CHECK(std::string(e.what()).find("p@ss") == std::string::npos);
  }
  pqxx::connection raw(server_url());
  drop_table(raw, table);
}

namespace {

// The test server's URL with its port replaced by `port` (a proxy's).
std::string url_via(int port, const std::string& params) {
  std::string url = server_url();
  const std::size_t host = url.find("@127.0.0.1:");
  REQUIRE(host != std::string::npos);
  const std::size_t begin = host + 11;
  const std::size_t end = url.find_first_not_of("0123456789", begin);
  url.replace(begin, end - begin, std::to_string(port));
  return url + (url.find('?') == std::string::npos ? "?" : "&") + params;
}

int server_port() {
  const std::string url = server_url();
  const std::size_t host = url.find("@127.0.0.1:");
  REQUIRE(host != std::string::npos);
  return std::stoi(url.substr(host + 11));
}

std::chrono::milliseconds time_of(const std::function<void()>& call) {
  const auto started = std::chrono::steady_clock::now();
  call();
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                               started);
}

}  // namespace

TEST_CASE("postgres driver: bulk: each bulk call of 1000 keys is one round trip", "[bulk]") {
  test_support::FaultProxy proxy(server_port());
  auto store = kvstore::open(
      url_via(proxy.port(), "table=" + fresh_table() + "&pool_size=1&sweep_interval=0"));
  store->set({"warm"}, 0);  // connects and prepares before the delay starts
  constexpr auto kEachWay = 100ms;
  proxy.delay(kEachWay);

  std::vector<kvstore::KvKey> keys;
  std::vector<kvstore::SetEntry> entries;
  for (int i = 0; i < 1000; ++i) {
    keys.push_back({"k", std::to_string(i)});
    entries.push_back({keys.back(),
                       Value(i),
                       {i % 2 == 0 ? std::optional<std::chrono::milliseconds>(1h) : std::nullopt}});
  }
  const auto single = time_of([&] { CHECK(store->get({"warm"}) == Value(0)); });
  std::vector<std::optional<Value>> got;
  const auto set = time_of([&] { store->set_many(entries); });
  const auto get = time_of([&] { got = store->get_many(keys); });
  const auto removed = time_of([&] { store->remove_many(keys); });
  const auto after = time_of([&] { got = store->get_many(keys); });
  INFO("single get " << single.count() << " ms, set_many " << set.count() << " ms, get_many "
                     << get.count() << " ms, remove_many " << removed.count() << " ms");
  CHECK(single >= 2 * kEachWay);
  // One round trip is 200 ms here; 1000 of them would be 200 s. Three is
  // the margin for a loaded machine, not room for a second round trip.
  for (const auto t : {set, get, removed, after}) {
    CHECK(t >= 2 * kEachWay);
    CHECK(t < 6 * kEachWay);
  }
  REQUIRE(got.size() == keys.size());
  for (const auto& v : got) CHECK_FALSE(v.has_value());
}

TEST_CASE("postgres driver: bulk: set_many is atomic and get_many reads one snapshot",
          "[bulk][concurrency]") {
  const std::string url = url_with("table=" + fresh_table());
  auto store = kvstore::open(url);
  constexpr int kKeys = 300;
  constexpr int kRounds = 40;
  std::vector<kvstore::KvKey> keys;
  for (int i = 0; i < kKeys; ++i) keys.push_back({"atomic", std::to_string(i)});
  auto batch = [&](int n, bool reversed) {
    std::vector<kvstore::SetEntry> entries;
    for (const auto& k : keys) entries.push_back({k, Value(n)});
    if (reversed) std::reverse(entries.begin(), entries.end());
    return entries;
  };
  store->set_many(batch(0, false));

  // Two writers over the same keys in opposite orders: rows locked in the
  // order given would deadlock them (40P01, then conflict); a reader must
  // never see two batches mixed.
  std::atomic<bool> done{false};
  std::atomic<int> failures{0};
  auto writer = [&](int first, bool reversed) {
    try {
      for (int n = first; n < first + kRounds; ++n) store->set_many(batch(n, reversed));
    } catch (const kvstore::Error& e) {
      UNSCOPED_INFO("writer: " << e.what());
      ++failures;
    }
  };
  std::thread a(writer, 1000, false);
  std::thread b(writer, 2000, true);
  int reads = 0;
  int mixed = 0;
  std::thread reader([&] {
    while (!done.load()) {
      const auto values = store->get_many(keys);
      ++reads;
      for (const auto& v : values) {
        if (!v || v != values.front()) {
          ++mixed;
          break;
        }
      }
    }
  });
  a.join();
  b.join();
  done = true;
  reader.join();
  INFO(reads << " snapshots read");
  CHECK(failures.load() == 0);
  CHECK(mixed == 0);
  CHECK(reads > 0);
  const auto last = store->get_many(keys);
  for (const auto& v : last) CHECK(v == last.front());
}

TEST_CASE("postgres driver: bulk: a dropped table is recreated by a bulk write", "[bulk][schema]") {
  const std::string table = fresh_table();
  auto store = kvstore::open(url_with("table=" + table));
  store->set({"a"}, 1);
  {
    pqxx::connection raw(server_url());
    pqxx::nontransaction tx(raw);
    tx.exec("DROP TABLE " + tx.quote_name(table));
  }
  store->set_many({{{"a"}, Value(2)}, {{"b"}, Value(3), {1h}}});
  const auto values = store->get_many({{"a"}, {"b"}, {"c"}});
  CHECK(values == std::vector<std::optional<Value>>{Value(2), Value(3), std::nullopt});
}

// --- Metadata, absolute expiry, keys-only listings, layout versions ---------

namespace {

using kvstore::Clock;
using kvstore::SetOptions;

// Bytes this process has received over TCP so far, summed over its sockets
// (the kernel's count of payload bytes, tcpi_bytes_received).
std::uint64_t tcp_bytes_received() {
  std::uint64_t total = 0;
  DIR* fds = ::opendir("/proc/self/fd");
  REQUIRE(fds != nullptr);
  while (const dirent* e = ::readdir(fds)) {
    if (e->d_name[0] == '.') continue;
    tcp_info info{};
    socklen_t size = sizeof info;
    if (::getsockopt(std::atoi(e->d_name), IPPROTO_TCP, TCP_INFO, &info, &size) == 0 &&
        size >= offsetof(tcp_info, tcpi_bytes_received) + sizeof info.tcpi_bytes_received) {
      total += info.tcpi_bytes_received;
    }
  }
  ::closedir(fds);
  return total;
}

std::string quoted(pqxx::connection& raw, const std::string& table) {
  return raw.quote_name(table);
}

// The DDL of layout 1: what the driver created at a2f674f, before metadata.
void create_v1_table(pqxx::connection& raw, const std::string& table) {
  pqxx::nontransaction tx(raw);
  tx.exec("CREATE TABLE " + tx.quote_name(table) +
          " (k text COLLATE \"C\" PRIMARY KEY, v text COLLATE \"C\" NOT NULL,"
          " expires_at timestamptz)");
  tx.exec("CREATE INDEX " + tx.quote_name(table + "_expires_idx") + " ON " + tx.quote_name(table) +
          " (expires_at) WHERE expires_at IS NOT NULL");
}

// A row as a2f674f's kv_set wrote it: ttl_ms < 0 writes one already expired.
void insert_v1_row(pqxx::connection& raw, const std::string& table, const kvstore::KvKey& key,
                   const std::string& json, std::optional<long long> ttl_ms) {
  pqxx::nontransaction tx(raw);
  tx.exec("INSERT INTO " + tx.quote_name(table) + " AS cur (k, v, expires_at) VALUES (" +
          tx.quote(kvstore::encode_key(key)) + ", " + tx.quote(json) + ", now() + " +
          (ttl_ms ? std::to_string(*ttl_ms) : std::string("NULL")) +
          "::bigint * interval '1 millisecond')");
}

std::string one(pqxx::connection& raw, const std::string& sql) {
  pqxx::nontransaction tx(raw);
  const pqxx::row row = tx.exec1(sql);
  return row[0].is_null() ? std::string("<NULL>") : row[0].as<std::string>();
}

// The stored expiry of `key` in integer microseconds since the epoch.
std::optional<long long> raw_expiry_us(pqxx::connection& raw, const std::string& table,
                                       const kvstore::KvKey& key) {
  pqxx::nontransaction tx(raw);
  const pqxx::row row =
      tx.exec1("SELECT (extract(epoch FROM expires_at) * 1000000)::bigint FROM " +
               tx.quote_name(table) + " WHERE k = " + tx.quote(kvstore::encode_key(key)));
  if (row[0].is_null()) return std::nullopt;
  return row[0].as<long long>();
}

long long micros_of(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}

std::string raw_metadata(pqxx::connection& raw, const std::string& table,
                         const kvstore::KvKey& key) {
  return one(raw, "SELECT metadata FROM " + raw.quote_name(table) +
                      " WHERE k = " + raw.quote(kvstore::encode_key(key)));
}

}  // namespace

TEST_CASE("postgres driver: metadata: null and absent stay apart through every write path",
          "[metadata]") {
  const std::string table = fresh_table();
  auto store = kvstore::open(url_with("table=" + table));
  pqxx::connection raw(server_url());
  const Value object = {{"tag", "x"}, {"nul", std::string("a\0b", 3)}, {"n", {1, 2}}};

  store->set({"m", "null"}, 1, SetOptions{.ttl = std::nullopt, .metadata = Value(nullptr)});
  store->set({"m", "none"}, 2);
  store->set({"m", "object"}, 3, SetOptions{.ttl = std::nullopt, .metadata = object});
  // The column holds the JSON text as written: 'null' is metadata, NULL none.
  CHECK(raw_metadata(raw, table, {"m", "null"}) == "null");
  CHECK(raw_metadata(raw, table, {"m", "none"}) == "<NULL>");
  CHECK(raw_metadata(raw, table, {"m", "object"}) == object.dump());

  const auto null_entry = store->get_entry({"m", "null"});
  REQUIRE(null_entry);
  REQUIRE(null_entry->metadata.has_value());
  CHECK(null_entry->metadata->is_null());
  CHECK(null_entry->value == Value(1));
  const auto none_entry = store->get_entry({"m", "none"});
  REQUIRE(none_entry);
  CHECK_FALSE(none_entry->metadata.has_value());
  CHECK(store->get_entry({"m", "object"})->metadata == object);
  CHECK_FALSE(store->get_entry({"m", "missing"}).has_value());

  // cas: a swap writes its metadata; a failed one changes nothing.
  CHECK(store->cas({"m", "cas"}, std::nullopt, Value(1),
                   SetOptions{.ttl = std::nullopt, .metadata = Value(nullptr)}));
  CHECK(raw_metadata(raw, table, {"m", "cas"}) == "null");
  CHECK_FALSE(store->cas({"m", "cas"}, Value(9), Value(2),
                         SetOptions{.ttl = std::nullopt, .metadata = Value("lost")}));
  CHECK(raw_metadata(raw, table, {"m", "cas"}) == "null");
  CHECK(store->cas({"m", "cas"}, Value(1), Value(2),
                   SetOptions{.ttl = std::nullopt, .metadata = Value("won")}));
  CHECK(store->get_entry({"m", "cas"})->metadata == Value("won"));
  CHECK(store->cas({"m", "cas"}, Value(2), Value(3)));  // no metadata: none left
  CHECK(raw_metadata(raw, table, {"m", "cas"}) == "<NULL>");

  // A write without metadata leaves none.
  store->set({"m", "object"}, 4);
  CHECK(raw_metadata(raw, table, {"m", "object"}) == "<NULL>");

  // set_many: per-row metadata, NULL elements included, replacing rows too.
  store->set_many({{{"m", "none"}, 5, SetOptions{.ttl = std::nullopt, .metadata = object}},
                   {{"m", "null"}, 6, {}},
                   {{"m", "new"}, 7, SetOptions{.ttl = std::nullopt, .metadata = Value(nullptr)}}});
  CHECK(raw_metadata(raw, table, {"m", "none"}) == object.dump());
  CHECK(raw_metadata(raw, table, {"m", "null"}) == "<NULL>");
  CHECK(raw_metadata(raw, table, {"m", "new"}) == "null");

  // Listings carry the same, with and without values.
  std::map<std::string, std::optional<Value>> listed_meta;
  for (const auto& e : store->list({"m"})) listed_meta[e.key.back()] = e.metadata;
  std::map<std::string, std::optional<Value>> keys_meta;
  for (const auto& e : store->list_keys({"m"})) keys_meta[e.key.back()] = e.metadata;
  CHECK(listed_meta == keys_meta);
  REQUIRE(keys_meta.size() == 5);
  CHECK(keys_meta["none"] == object);
  CHECK_FALSE(keys_meta["null"].has_value());
  REQUIRE(keys_meta["new"].has_value());
  CHECK(keys_meta["new"]->is_null());
  CHECK_FALSE(keys_meta["object"].has_value());
  CHECK_FALSE(keys_meta["cas"].has_value());
  drop_table(raw, table);
}

TEST_CASE("postgres driver: expiry: expires_at is stored and reported to the millisecond",
          "[ttl][metadata]") {
  const std::string table = fresh_table();
  auto store = kvstore::open(url_with("table=" + table));
  pqxx::connection raw(server_url());
  using std::chrono::floor;
  using std::chrono::milliseconds;
  // Odd milliseconds, and one close to kMaxTtl ahead (a century: the
  // interval arithmetic must stay exact that far).
  const Clock::time_point soon = floor<milliseconds>(Clock::now()) + 1h + 7ms;
  const Clock::time_point far = floor<milliseconds>(Clock::now()) + kvstore::kMaxTtl - 1h + 999ms;
  store->set({"e", "soon"}, 1, SetOptions{.ttl = std::nullopt, .expires_at = soon});
  store->set({"e", "far"}, 2, SetOptions{.ttl = std::nullopt, .expires_at = far});
  CHECK(raw_expiry_us(raw, table, {"e", "soon"}) == micros_of(soon));
  CHECK(raw_expiry_us(raw, table, {"e", "far"}) == micros_of(far));
  CHECK(store->get_entry({"e", "soon"})->expires_at == soon);
  CHECK(store->get_entry({"e", "far"})->expires_at == far);

  // A TTL write reports what the server computed from its own clock.
  const Clock::time_point before = Clock::now();
  store->set({"e", "ttl"}, 3, SetOptions{.ttl = 60s});
  const Clock::time_point after = Clock::now();
  const auto ttl_entry = store->get_entry({"e", "ttl"});
  REQUIRE(ttl_entry);
  REQUIRE(ttl_entry->expires_at);
  CHECK(raw_expiry_us(raw, table, {"e", "ttl"}) == micros_of(*ttl_entry->expires_at));
  // The server runs on this machine: its clock agrees with ours.
  CHECK(*ttl_entry->expires_at >= before + 60s - 1s);
  CHECK(*ttl_entry->expires_at <= after + 60s + 1s);

  // cas and set_many carry expires_at too, and listings report it.
  const Clock::time_point later = soon + 1min + 1ms;
  CHECK(store->cas({"e", "soon"}, Value(1), Value(4),
                   SetOptions{.ttl = std::nullopt, .expires_at = later}));
  CHECK(raw_expiry_us(raw, table, {"e", "soon"}) == micros_of(later));
  CHECK(store->cas({"e", "new"}, std::nullopt, Value(5),
                   SetOptions{.ttl = std::nullopt, .expires_at = far}));
  CHECK(raw_expiry_us(raw, table, {"e", "new"}) == micros_of(far));
  store->set_many({{{"e", "b1"}, 6, SetOptions{.ttl = std::nullopt, .expires_at = later}},
                   {{"e", "b2"}, 7, SetOptions{.ttl = 60s}},
                   {{"e", "b3"}, 8, {}}});
  CHECK(raw_expiry_us(raw, table, {"e", "b1"}) == micros_of(later));
  CHECK(raw_expiry_us(raw, table, {"e", "b2"}).value_or(0) > micros_of(before + 59s));
  CHECK_FALSE(raw_expiry_us(raw, table, {"e", "b3"}).has_value());
  for (const auto& e : store->list_keys({"e"})) {
    INFO(e.key.back());
    CHECK(e.expires_at == store->get_entry(e.key)->expires_at);
    const auto us = raw_expiry_us(raw, table, e.key);
    CHECK(us.has_value() == e.expires_at.has_value());
    if (us) CHECK(*us == micros_of(*e.expires_at));
  }
  // A plain set clears the expiry again.
  store->set({"e", "far"}, 9);
  CHECK_FALSE(store->get_entry({"e", "far"})->expires_at.has_value());
  drop_table(raw, table);
}

TEST_CASE("postgres driver: list_keys: listing large values moves keys, not values",
          "[list_keys]") {
  const std::string table = fresh_table();
  auto store = kvstore::open(url_with("table=" + table + "&pool_size=1"));
  constexpr int kEntries = 16;
  constexpr std::size_t kValueBytes = 256 * 1024;
  std::vector<kvstore::SetEntry> writes;
  for (int i = 0; i < kEntries; ++i) {
    writes.push_back({{"big", std::to_string(i)},
                      Value(std::string(kValueBytes, static_cast<char>('a' + i))),
                      SetOptions{.ttl = std::nullopt, .metadata = Value(i)}});
  }
  store->set_many(writes);

  std::uint64_t start = tcp_bytes_received();
  int keys = 0;
  for (const auto& e : store->list_keys({"big"})) {
    CHECK(e.metadata == Value(std::stoi(e.key.back())));
    ++keys;
  }
  const std::uint64_t keys_only = tcp_bytes_received() - start;
  start = tcp_bytes_received();
  int entries = 0;
  for (const auto& e : store->list({"big"}))
    entries += e.value.get<std::string>().size() == kValueBytes;
  const std::uint64_t with_values = tcp_bytes_received() - start;
  INFO("list_keys received " << keys_only << " bytes, list " << with_values);
  CHECK(keys == kEntries);
  CHECK(entries == kEntries);
  // The measurement sees the values when they are sent...
  CHECK(with_values >= kEntries * kValueBytes);
  // ...and a keys-only listing receives a few dozen bytes per key.
  CHECK(keys_only < 4096);
  pqxx::connection raw(server_url());
  drop_table(raw, table);
}

TEST_CASE("postgres driver: layout: a version-1 table is upgraded in place on first use",
          "[layout][schema]") {
  const std::string table = fresh_table();
  pqxx::connection raw(server_url());
  create_v1_table(raw, table);
  insert_v1_row(raw, table, {"u", "plain"}, "\"hello\"", std::nullopt);
  insert_v1_row(raw, table, {"u", "ttl"}, "{\"n\":1}", 3600000);
  insert_v1_row(raw, table, {"u", "gone"}, "2", -1000);
  const std::optional<long long> ttl_us = raw_expiry_us(raw, table, {"u", "ttl"});
  REQUIRE(ttl_us);
  const std::string q = quoted(raw, table);
  CHECK(one(raw, "SELECT obj_description(" + raw.quote(q) + "::regclass, 'pg_class')") == "<NULL>");

  auto store = kvstore::open(url_with("table=" + table));
  CHECK(store->get({"u", "plain"}) == Value("hello"));
  const auto plain = store->get_entry({"u", "plain"});
  REQUIRE(plain);
  CHECK(plain->value == Value("hello"));
  CHECK_FALSE(plain->metadata.has_value());
  CHECK_FALSE(plain->expires_at.has_value());
  const auto ttl = store->get_entry({"u", "ttl"});
  REQUIRE(ttl);
  CHECK(ttl->value == Value({{"n", 1}}));
  CHECK_FALSE(ttl->metadata.has_value());
  REQUIRE(ttl->expires_at);
  CHECK(micros_of(*ttl->expires_at) == *ttl_us);  // the TTL was kept as it was
  CHECK_FALSE(store->get_entry({"u", "gone"}).has_value());
  std::vector<std::string> names;
  for (const auto& e : store->list({"u"})) names.push_back(e.key.back());
  CHECK(names == std::vector<std::string>{"plain", "ttl"});
  names.clear();
  for (const auto& e : store->list_keys({"u"})) names.push_back(e.key.back());
  CHECK(names == std::vector<std::string>{"plain", "ttl"});

  // The table now has layout 2 and says so; the expiry index is still there.
  const std::string regclass = raw.quote(q) + "::regclass";
  CHECK(one(raw, "SELECT obj_description(" + regclass + ", 'pg_class')") == "kvstore layout 2");
  CHECK(one(raw,
            "SELECT string_agg(attname || ':' || format_type(atttypid, atttypmod), ',' ORDER "
            "BY attnum) FROM pg_attribute WHERE attrelid = " +
                regclass + " AND attnum > 0 AND NOT attisdropped") ==
        "k:text,v:text,expires_at:timestamp with time zone,metadata:text");
  CHECK(one(raw, "SELECT count(*) FROM pg_indexes WHERE indexname = " +
                     raw.quote(table + "_expires_idx")) == "1");
  CHECK(raw_expiry_us(raw, table, {"u", "ttl"}) == ttl_us);

  // And stores metadata from now on.
  store->set({"u", "plain"}, "again", SetOptions{.ttl = std::nullopt, .metadata = Value("m")});
  CHECK(store->get_entry({"u", "plain"})->metadata == Value("m"));
  // A second store (a later process) finds layout 2 and changes nothing.
  auto second = kvstore::open(url_with("table=" + table));
  CHECK(second->get_entry({"u", "plain"})->metadata == Value("m"));
  drop_table(raw, table);
}

TEST_CASE("postgres driver: layout: stores upgrading one version-1 table at once all succeed",
          "[layout][schema][concurrency]") {
  const std::string table = fresh_table();
  pqxx::connection raw(server_url());
  create_v1_table(raw, table);
  for (int i = 0; i < 50; ++i) {
    insert_v1_row(raw, table, {"old", std::to_string(i)}, std::to_string(i),
                  i % 2 == 0 ? std::optional<long long>(3600000) : std::nullopt);
  }
  const std::string url = url_with("table=" + table);
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      try {
        auto store = kvstore::open(url);
        store->set({"new", std::to_string(i)}, i,
                   SetOptions{.ttl = std::nullopt, .metadata = Value(i)});
      } catch (const std::exception& e) {
        ++failures;
        UNSCOPED_INFO(e.what());
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(failures == 0);
  auto store = kvstore::open(url);
  int old_entries = 0;
  int with_ttl = 0;
  for (const auto& e : store->list({"old"})) {
    CHECK(e.value == Value(std::stoi(e.key.back())));
    CHECK_FALSE(e.metadata.has_value());
    with_ttl += e.expires_at.has_value();
    ++old_entries;
  }
  CHECK(old_entries == 50);
  CHECK(with_ttl == 25);
  int new_entries = 0;
  for (const auto& e : store->list_keys({"new"})) {
    CHECK(e.metadata == Value(std::stoi(e.key.back())));
    ++new_entries;
  }
  CHECK(new_entries == 8);
  drop_table(raw, table);
}

TEST_CASE("postgres driver: layout: a newer layout version fails every call as unsupported",
          "[layout][schema]") {
  const std::string table = fresh_table();
  pqxx::connection raw(server_url());
  const std::string q = quoted(raw, table);
  {
    pqxx::nontransaction tx(raw);
    // What a later release might have written: more columns, version 3.
    tx.exec("CREATE TABLE " + q +
            " (k text COLLATE \"C\" PRIMARY KEY, v text COLLATE \"C\" NOT NULL,"
            " expires_at timestamptz, metadata text COLLATE \"C\", tags text[])");
    tx.exec("COMMENT ON TABLE " + q + " IS 'kvstore layout 3'");
    tx.exec("INSERT INTO " + q + " (k, v) VALUES (" + tx.quote(kvstore::encode_key({"k"})) +
            ", '1')");
  }
  auto store = kvstore::open(url_with("table=" + table));
  const std::vector<std::function<void()>> calls = {
      [&] { store->get({"k"}); },
      [&] { store->set({"k"}, 2); },
      [&] { store->get_entry({"k"}); },
      [&] {
        for (const auto& e : store->list_keys()) (void)e;
      },
      [&] { store->get({"k"}); },  // again: the check is not cached as passed
  };
  for (const auto& call : calls) {
    const kvstore::Error e = error_of(call);
    const std::string what = e.what();
    INFO(what);
    CHECK(e.code() == ErrorCode::unsupported);
    CHECK_FALSE(e.retryable());
    CHECK(what.find("layout version 3 is newer than this kvstore supports (2)") !=
          std::string::npos);
    CHECK(what.find(table) != std::string::npos);
  }
  // Nothing was changed: not the record, not the row.
  CHECK(one(raw, "SELECT obj_description(" + raw.quote(q) + "::regclass, 'pg_class')") ==
        "kvstore layout 3");
  CHECK(one(raw, "SELECT v FROM " + q) == "1");
  drop_table(raw, table);
}

TEST_CASE(
    "postgres driver: layout: a foreign table with the version-1 columns and more is not "
    "upgraded",
    "[layout][schema]") {
  const std::string table = fresh_table();
  pqxx::connection raw(server_url());
  const std::string q = quoted(raw, table);
  {
    pqxx::nontransaction tx(raw);
    tx.exec("CREATE TABLE " + q +
            " (k text COLLATE \"C\" PRIMARY KEY, v text COLLATE \"C\" NOT NULL,"
            " expires_at timestamptz, owner int)");
  }
  auto store = kvstore::open(url_with("table=" + table));
  const kvstore::Error e = error_of([&] { store->set({"k"}, 1); });
  INFO(e.what());
  CHECK(e.code() == ErrorCode::invalid_argument);
  CHECK(std::string(e.what()).find("owner integer") != std::string::npos);
  const std::string regclass = raw.quote(q) + "::regclass";
  CHECK(one(raw, "SELECT obj_description(" + regclass + ", 'pg_class')") == "<NULL>");
  CHECK(one(raw, "SELECT count(*) FROM pg_attribute WHERE attrelid = " + regclass +
                     " AND attname = 'metadata'") == "0");
  drop_table(raw, table);
}

TEST_CASE("postgres driver: layout: a fresh table is created at version 2", "[layout][schema]") {
  const std::string table = fresh_table();
  auto store = kvstore::open(url_with("table=" + table));
  store->set({"k"}, 1, SetOptions{.ttl = std::nullopt, .metadata = Value("m")});
  pqxx::connection raw(server_url());
  CHECK(one(raw, "SELECT obj_description(" + raw.quote(quoted(raw, table)) +
                     "::regclass, 'pg_class')") == "kvstore layout 2");
  drop_table(raw, table);
}
