// PostgreSQL driver tests beyond the shared conformance suite. They need the
// server in KVSTORE_TEST_POSTGRES_URL (scripts/test-services.sh start).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <kvstore/kvstore.h>

#include "test_services.h"
#include <catch2/catch.hpp>
#include <pqxx/pqxx>

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
  auto store =
      kvstore::open("postgres://kvstore:secret@127.0.0.1:" + std::to_string(test_support::unused_loopback_port()) +
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
  // Even a plan for these exact values reads the range through the index.
  tx.exec("SET plan_cache_mode = force_custom_plan");
  const std::string custom = plan_of("EXPLAIN EXECUTE kvpg_list" + args);
  std::printf("EXPLAIN EXECUTE (custom plan):\n%s\n", custom.c_str());
  INFO("custom plan:\n" << custom);
  CHECK(custom.find(" on " + table + "_pkey") != std::string::npos);
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
