// MySQL/MariaDB driver tests beyond the shared conformance suite: schema
// creation races, key and value limits, the expiry sweep, server restarts,
// isolation levels and failure modes. They need KVSTORE_TEST_MYSQL_URL (and,
// for the [serial] cases, KVSTORE_TEST_SERVICES) from scripts/test-services.sh.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#include <cppconn/connection.h>
#include <cppconn/driver.h>
#include <cppconn/exception.h>
#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>
#include <cppconn/statement.h>

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <barrier>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <random>
#include <sstream>
#include <thread>

#include <kvstore/driver.h>
#include <kvstore/key_encoding.h>
#include <kvstore/kvstore.h>
#include <kvstore/mysql.h>

#include "fault_proxy.h"
#include "store_helpers.h"
#include "test_services.h"

using namespace std::chrono_literals;
using kvstore::ErrorCode;
using kvstore::Value;

namespace {

std::string base_url() {
  const char* url = std::getenv("KVSTORE_TEST_MYSQL_URL");
  if (url == nullptr || *url == '\0')
    FAIL("KVSTORE_TEST_MYSQL_URL is not set: start the test servers");
  return url;
}

std::string fresh_table() {
  static std::atomic<int> counter{0};
  static const unsigned run = std::random_device{}();
  std::ostringstream out;
  out << "kvd_" << ::getpid() << "_" << std::hex << (run & 0xffffff) << "_" << counter++;
  return out.str();
}

std::string url_for(const std::string& table, const std::string& extra = {}) {
  std::string url = base_url();
  url += (url.find('?') == std::string::npos ? "?" : "&");
  url += "table=" + table;
  if (!extra.empty()) url += "&" + extra;
  return url;
}

ErrorCode error_code_of(const std::function<void()>& call, std::string* message = nullptr) {
  try {
    call();
  } catch (const kvstore::Error& e) {
    if (message) *message = e.what();
    return e.code();
  }
  FAIL("no kvstore::Error was thrown");
  return ErrorCode::internal;
}

// A raw Connector/C++ connection to the test server, to look behind the driver.
struct Raw {
  std::unique_ptr<sql::Connection> conn;
  Raw() {
    kvstore::Url url = kvstore::Url::parse(base_url());
    sql::ConnectOptionsMap o;
    o["hostName"] = sql::SQLString("tcp://" + url.host());
    o["port"] = static_cast<int>(url.port().value_or(3306));
    o["userName"] = sql::SQLString(url.user());
    o["password"] = sql::SQLString(url.password().value_or(""));
    o["schema"] = sql::SQLString(url.path().substr(1));
    conn.reset(get_driver_instance()->connect(o));
  }
  std::int64_t count(const std::string& sql) {
    std::unique_ptr<sql::Statement> s(conn->createStatement());
    std::unique_ptr<sql::ResultSet> rs(s->executeQuery(sql));
    REQUIRE(rs->next());
    return rs->getInt64(1);
  }
  void exec(const std::string& sql) {
    std::unique_ptr<sql::Statement> s(conn->createStatement());
    s->execute(sql);
  }
};

// The server's clock in Unix ms, as the driver computes it.
constexpr const char* kNowMs = "CAST(UNIX_TIMESTAMP(NOW(3)) * 1000 AS SIGNED)";

void services(const std::string& command) { test_support::service_control(command, "mariadb"); }

// Runs SQL as the server's root user over its unix socket (services dir).
void as_root(const std::string& sql) {
  const std::string dir = test_support::services_dir();
  const std::string command = "mariadb --no-defaults --socket='" + dir +
                              "/mariadb/mariadbd.sock' -uroot -e \"" + sql + "\" > /dev/null 2>&1";
  REQUIRE(std::system(command.c_str()) == 0);
}

}  // namespace

TEST_CASE("several stores create the same new table at once", "[schema]") {
  const std::string table = fresh_table();
  constexpr int kStores = 8;
  std::barrier start(kStores);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kStores; ++i) {
    threads.emplace_back([&, i] {
      try {
        auto store = kvstore::open(url_for(table));
        start.arrive_and_wait();
        store->set({"writer", std::to_string(i)}, i);
      } catch (const std::exception& e) {
        UNSCOPED_INFO(e.what());
        ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(failures == 0);
  auto store = kvstore::open(url_for(table));
  std::size_t n = 0;
  for (const auto& entry : store->list({"writer"})) {
    (void)entry;
    ++n;
  }
  CHECK(n == kStores);
}

TEST_CASE("table names are validated, never spliced into SQL as given", "[url]") {
  for (const char* bad :
       {"x%60%3B%20DROP%20TABLE%20kvstore%3B%20--", "a-b", "a.b", "%60",
        "0123456789012345678901234567890123456789012345678901234567890123456789", "t%C3%A9"}) {
    INFO(bad);
    CHECK(error_code_of([&] { kvstore::open(url_for(bad)); }) == ErrorCode::invalid_argument);
  }
  CHECK(error_code_of([&] { kvstore::open("mysql://u:p@127.0.0.1:1/"); }) ==
        ErrorCode::invalid_argument);
  CHECK(error_code_of([&] { kvstore::open(url_for("ok", "pool_size=0")); }) ==
        ErrorCode::invalid_argument);
  CHECK(error_code_of([&] { kvstore::open(url_for("ok", "io_timeout=0")); }) ==
        ErrorCode::invalid_argument);
  std::string message;
  CHECK(error_code_of([&] { kvstore::open("mariadb://u:secret@127.0.0.1/db?bogus=1"); },
                      &message) == ErrorCode::invalid_argument);
  CHECK(message.find("secret") == std::string::npos);
  auto store = kvstore::open(
      "mariadb://u:p@127.0.0.1/db?table=t&pool_size=2&connect_timeout=1s"
      "&io_timeout=2s&lock_timeout=1s&pool_timeout=500ms"
      "&sweep_interval=0&sweep_batch=10");
  CHECK(store->driver_name() == "mysql");
}

TEST_CASE("the longest keys and awkward bytes round-trip and sort", "[keys]") {
  auto store = kvstore::open(url_for(fresh_table()));
  // 256 components of 4 x U+0001: 1024 bytes, encoded to 2 * 1024 + 256 bytes,
  // the longest encoded key there is.
  kvstore::KvKey longest(256, std::string(4, '\x01'));
  store->set(longest, "longest");
  CHECK(store->get(longest) == Value("longest"));
  kvstore::KvKey wide{std::string(1024, 'z')};
  store->set(wide, "wide");
  CHECK(store->get(wide) == Value("wide"));
  // PAD SPACE collations would make these equal; VARBINARY does not.
  store->set({"a"}, 1);
  store->set({"a "}, 2);
  store->set({"A"}, 3);
  store->set({"\x02"}, 4);
  CHECK(store->get({"a"}) == Value(1));
  CHECK(store->get({"a "}) == Value(2));
  CHECK(store->get({"A"}) == Value(3));
  std::vector<kvstore::KvKey> keys;
  for (const auto& e : store->list()) keys.push_back(e.key);
  CHECK(keys == std::vector<kvstore::KvKey>{longest, {"\x02"}, {"A"}, {"a"}, {"a "}, wide});
  CHECK(store->cas(longest, Value("longest"), "swapped"));
  CHECK(store->get(longest) == Value("swapped"));
}

TEST_CASE("cas compares stored text byte for byte", "[cas]") {
  auto store = kvstore::open(url_for(fresh_table()));
  // Trailing spaces and case matter to the driver's swap (utf8mb4 collations
  // would ignore the first): the core passes the stored text back as expected.
  store->set_json({"k"}, "\"x\"  ");
  CHECK(store->get_json({"k"}) == std::optional<std::string>("\"x\"  "));
  CHECK(store->cas({"k"}, Value("x"), "y"));
  CHECK(store->get_json({"k"}) == std::optional<std::string>("\"y\""));
  // Same value again: a swap that changes no byte still reports true.
  CHECK(store->cas({"k"}, Value("y"), "y"));
  CHECK(store->cas({"k"}, Value("y"), "y", {60s}));
  CHECK(store->cas({"k"}, Value("y"), "y", {60s}));
  CHECK(store->cas({"k"}, Value("y"), "y"));
  CHECK_FALSE(store->cas({"k"}, Value("Y"), "z"));
  // TTLs beyond kMaxTtl are refused by the core before any I/O.
  CHECK(error_code_of([&] {
          store->set({"forever-ish"}, 1, {std::chrono::milliseconds::max()});
        }) == ErrorCode::invalid_argument);
}

TEST_CASE("values up to the 25 MiB limit round-trip", "[values]") {
  auto store = kvstore::open(url_for(fresh_table()));
  std::string big(kvstore::kDefaultMaxValueBytes - 2, 'x');
  big[12345] = ' ';
  store->set({"big"}, big);
  std::optional<std::string> text = store->get_json({"big"});
  REQUIRE(text.has_value());
  CHECK(text->size() == kvstore::kDefaultMaxValueBytes);
  CHECK(*text == "\"" + big + "\"");
  std::string bigger = big;
  bigger[0] = 'y';
  CHECK(store->cas({"big"}, Value(big), bigger));
  CHECK(store->get({"big"}) == Value(bigger));
  CHECK(store->cas({"big"}, Value(bigger), std::nullopt));
}

TEST_CASE("expired rows are swept in bounded batches", "[ttl]") {
  const std::string table = fresh_table();
  auto writer = kvstore::open(url_for(table, "sweep_interval=0"));  // never sweeps
  for (int i = 0; i < 300; ++i) writer->set({"e", std::to_string(i)}, i, {50ms});
  writer->set({"live"}, 1);
  std::this_thread::sleep_for(200ms);
  Raw raw;
  const std::string count = "SELECT COUNT(*) FROM `" + table + "`";
  CHECK(raw.count(count) == 301);  // invisible but still there
  CHECK_FALSE(writer->get({"e", "1"}).has_value());
  auto store = kvstore::open(url_for(table, "sweep_interval=1h&sweep_batch=50"));
  store->set({"w"}, 0);
  CHECK(raw.count(count) == 252);  // one batch per write
  for (int i = 1; i <= 5; ++i) store->set({"w"}, i);
  CHECK(raw.count(count) == 2);  // "live" and "w": full batches let the next write go on
  store->set({"w"}, 6);          // that last batch was full, so this write sweeps again: 0 rows
  writer->set({"e", "again"}, 1, {50ms});
  std::this_thread::sleep_for(100ms);
  store->set({"w"}, 7);
  CHECK(raw.count(count) == 3);  // the last batch was not full: the next sweep waits an hour
  // The sweep uses the expires_at index, not a scan of the table.
  std::unique_ptr<sql::Statement> s(raw.conn->createStatement());
  std::unique_ptr<sql::ResultSet> plan(s->executeQuery(
      "EXPLAIN DELETE FROM `" + table + "` WHERE expires_at <= 5 ORDER BY expires_at LIMIT 50"));
  REQUIRE(plan->next());
  CHECK(std::string(plan->getString("key")) == "expires_at");
  std::unique_ptr<sql::ResultSet> list_plan(s->executeQuery(
      "EXPLAIN SELECT k, v FROM `" + table + "` WHERE k >= 'a' AND k < 'b' ORDER BY k LIMIT 5"));
  REQUIRE(list_plan->next());
  CHECK(std::string(list_plan->getString("type")) == "range");
  CHECK(std::string(list_plan->getString("key")) == "PRIMARY");
}

TEST_CASE("the sweep runs every second by default", "[ttl]") {
  const std::string table = fresh_table();
  auto store = kvstore::open(url_for(table));
  store->set({"w"}, 0);  // the first write sweeps (nothing yet) and sets the next sweep 1 s ahead
  for (int i = 0; i < 20; ++i) store->set({"e", std::to_string(i)}, i, {50ms});
  Raw raw;
  const std::string count = "SELECT COUNT(*) FROM `" + table + "`";
  CHECK(raw.count(count) == 21);
  std::this_thread::sleep_for(1200ms);
  store->set({"w"}, 1);
  CHECK(raw.count(count) == 1);
}

TEST_CASE("a TTL of kMaxTtl is kept to the millisecond, not shortened", "[ttl]") {
  const std::string table = fresh_table();
  auto store = kvstore::open(url_for(table));
  store->set({"far"}, 1, {kvstore::kMaxTtl});
  CHECK(store->cas({"far-cas"}, std::nullopt, 2, {kvstore::kMaxTtl}));
  store->set({"swap"}, 3);
  CHECK(store->cas({"swap"}, Value(3), 4, {kvstore::kMaxTtl}));
  Raw raw;
  for (const char* key : {"far", "far-cas", "swap"}) {
    INFO(key);
    std::unique_ptr<sql::PreparedStatement> q(raw.conn->prepareStatement(
        std::string("SELECT expires_at - ") + kNowMs + " FROM `" + table + "` WHERE k = ?"));
    q->setString(1, kvstore::encode_key({key}));
    std::unique_ptr<sql::ResultSet> rs(q->executeQuery());
    REQUIRE(rs->next());
    const std::int64_t left = rs->getInt64(1);
    CHECK(left <= kvstore::kMaxTtl.count());
    CHECK(left > kvstore::kMaxTtl.count() - 60000);
  }
  CHECK(store->get({"far"}) == Value(1));
}

TEST_CASE("a dropped table is created again", "[schema]") {
  const std::string table = fresh_table();
  auto store = kvstore::open(url_for(table));
  store->set({"k"}, 1);
  Raw raw;
  raw.exec("DROP TABLE `" + table + "`");
  CHECK_FALSE(store->get({"k"}).has_value());
  store->set({"k"}, 2);
  CHECK(store->get({"k"}) == Value(2));
}

TEST_CASE("no server gives unavailable within the connect timeout", "[errors]") {
  const int port = test_support::unused_loopback_port();
  auto store = kvstore::open("mysql://kvstore:secret@127.0.0.1:" + std::to_string(port) +
                             "/kvstore?connect_timeout=2s");
  const auto start = std::chrono::steady_clock::now();
  std::string message;
  try {
    store->get({"k"});
    FAIL("get succeeded without a server");
  } catch (const kvstore::Error& e) {
    message = e.what();
    CHECK(e.code() == ErrorCode::unavailable);
    CHECK(e.retryable());
    CHECK(e.driver() == "mysql");
  }
  CHECK(std::chrono::steady_clock::now() - start < 3s);
  CHECK(message.find("secret") == std::string::npos);
  CHECK(error_code_of([&] { store->cas({"k"}, std::nullopt, 1); }) == ErrorCode::unavailable);
}

TEST_CASE("a wrong password is permission_denied", "[errors]") {
  kvstore::Url url = kvstore::Url::parse(base_url());
  const std::string bad = "mysql://" + url.user() + ":wrong-password@" + url.host() + ":" +
                          std::to_string(url.port().value_or(3306)) + url.path();
  auto store = kvstore::open(bad);
  std::string message;
  CHECK(error_code_of([&] { store->get({"k"}); }, &message) == ErrorCode::permission_denied);
  CHECK(message.find("wrong-password") == std::string::npos);
  CHECK(message.find("1045") != std::string::npos);
  try {
    store->set({"k"}, 1);
    FAIL("a wrong password worked");
  } catch (const kvstore::Error& e) {
    CHECK(e.native_code() == "1045");  // ER_ACCESS_DENIED_ERROR, as the server sent it
    CHECK_FALSE(e.retryable());
    CHECK_FALSE(e.outcome_unknown());
  }
}

TEST_CASE("an unknown user is permission_denied, never internal or retryable", "[errors]") {
  kvstore::Url url = kvstore::Url::parse(base_url());
  const std::string where =
      "@" + url.host() + ":" + std::to_string(url.port().value_or(3306)) + url.path();
  // MariaDB answers 1698 for a user it does not know and for root, whose
  // only login is unix_socket; both are who-we-are errors.
  for (const std::string user : {"kv_no_such_user:hunter2-secret", "kv_no_such_user", "root"}) {
    INFO(user);
    auto store = kvstore::open("mysql://" + user + where);
    try {
      store->get({"k"});
      FAIL("an unknown user logged in");
    } catch (const kvstore::Error& e) {
      CHECK(e.code() == ErrorCode::permission_denied);
      CHECK_FALSE(e.retryable());
      CHECK(e.driver() == "mysql");
      CHECK(std::string(e.what()).find("hunter2-secret") == std::string::npos);
    }
  }
}

TEST_CASE("a database name that is not UTF-8 is refused at open", "[url][errors]") {
  kvstore::Url url = kvstore::Url::parse(base_url());
  const std::string server = "mysql://" + url.user() + ":" + url.password().value_or("") + "@" +
                             url.host() + ":" + std::to_string(url.port().value_or(3306)) + "/";
  for (const char* bad : {"%FF", "db%C3", "a%00b"}) {
    INFO(bad);
    // open() does no I/O, so failing there proves the check comes first.
    try {
      kvstore::open(server + bad);
      FAIL("opened a store on a database name that is not UTF-8");
    } catch (const kvstore::Error& e) {
      CHECK(e.code() == ErrorCode::invalid_argument);
      CHECK_FALSE(e.retryable());
      CHECK(e.driver() == "mysql");
    }
  }
  // Valid UTF-8 that names no database: the server answers 1049 (unknown
  // database) or, to a user without rights on it, 1044 (access denied).
  // Either way a configuration error, never unavailable.
  auto store = kvstore::open(server + "kv_no_such_db_%C3%A9");
  try {
    store->get({"k"});
    FAIL("a missing database worked");
  } catch (const kvstore::Error& e) {
    INFO(e.what());
    CHECK((e.code() == ErrorCode::invalid_argument || e.code() == ErrorCode::permission_denied));
    CHECK_FALSE(e.retryable());
    CHECK((e.native_code() == "1049" || e.native_code() == "1044"));
  }
}

TEST_CASE("a table with other columns is refused, naming what it needs", "[schema]") {
  const std::string table = fresh_table();
  Raw raw;
  raw.exec("CREATE TABLE `" + table + "` (a INT)");
  auto store = kvstore::open(url_for(table));
  std::string message;
  for (int i = 0; i < 2; ++i) {  // the check is no one-shot: every call says so
    try {
      if (i == 0) {
        store->get({"k"});
      } else {
        store->set({"k"}, 1);
      }
      FAIL("a call worked on a foreign table");
    } catch (const kvstore::Error& e) {
      message = e.what();
      CHECK(e.code() == ErrorCode::invalid_argument);
      CHECK_FALSE(e.retryable());
    }
    INFO(message);
    CHECK(message.find("`" + table + "`") != std::string::npos);
    CHECK(message.find("k VARBINARY, v LONGBLOB, expires_at BIGINT") != std::string::npos);
    CHECK(message.find("a int") != std::string::npos);  // what the server says it has, once
    CHECK(message.find("Unknown column") == std::string::npos);
  }
  CHECK(raw.count("SELECT COUNT(*) FROM `" + table + "`") == 0);  // nothing was written
  // Right names, wrong types (a text key would sort by collation).
  const std::string typed = fresh_table();
  raw.exec("CREATE TABLE `" + typed +
           "` (k VARCHAR(10) PRIMARY KEY, v LONGBLOB, expires_at BIGINT)");
  auto other = kvstore::open(url_for(typed));
  CHECK(error_code_of([&] { other->get({"k"}); }, &message) == ErrorCode::invalid_argument);
  CHECK(message.find("varchar") != std::string::npos);
}

TEST_CASE("URL parameters have ranges, and their errors name the driver", "[url]") {
  auto rejected = [](const std::string& params) {
    kvstore::Url url = kvstore::Url::parse("mysql://u:secret@127.0.0.1/db?" + params);
    try {
      kvstore::mysql::open(url);  // the driver's own factory, without the registry's help
    } catch (const kvstore::Error& e) {
      CHECK(e.code() == ErrorCode::invalid_argument);
      CHECK(e.driver() == "mysql");
      CHECK(std::string(e.what()).find("mysql") != std::string::npos);
      CHECK(std::string(e.what()).find("secret") == std::string::npos);
      return true;
    }
    return false;
  };
  auto accepted = [](const std::string& params) {
    kvstore::Url url = kvstore::Url::parse("mysql://u:secret@127.0.0.1/db?" + params);
    return kvstore::mysql::open(url) != nullptr;
  };
  CHECK(accepted("pool_size=1"));
  CHECK(accepted("pool_size=1024"));
  CHECK(rejected("pool_size=1025"));
  CHECK(rejected("pool_size=0"));
  for (const char* name :
       {"pool_timeout", "connect_timeout", "command_timeout", "io_timeout", "lock_timeout"}) {
    INFO(name);
    CHECK(accepted(std::string(name) + "=1ms"));
    CHECK(accepted(std::string(name) + "=1h"));
    CHECK(rejected(std::string(name) + "=0"));
    CHECK(rejected(std::string(name) + "=61m"));
    CHECK(rejected(std::string(name) + "=5"));  // a duration needs its unit
  }
  CHECK(accepted("sweep_interval=0"));
  CHECK(accepted("sweep_interval=1h"));
  CHECK(rejected("sweep_interval=61m"));
  CHECK(rejected("sweep_batch=0"));
  CHECK(rejected("sweep_batch=100001"));
  CHECK(rejected("bogus=1"));
  // io_timeout is the deprecated alias of the shared command_timeout.
  CHECK(rejected("io_timeout=1s&command_timeout=1s"));
}

TEST_CASE("a small pool serves many threads", "[pool]") {
  auto store = kvstore::open(url_for(fresh_table(), "pool_size=2"));
  std::vector<std::thread> threads;
  std::atomic<int> done{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) store->set({"t", std::to_string(t), std::to_string(i)}, i);
      ++done;
    });
  }
  for (auto& t : threads) t.join();
  CHECK(done == 8);
  std::size_t n = 0;
  for (const auto& e : store->list({"t"})) {
    (void)e;
    ++n;
  }
  CHECK(n == 400);
}

TEST_CASE("a held row lock gives timeout (1205), and so does a busy pool", "[pool]") {
  const std::string table = fresh_table();
  auto store = kvstore::open(url_for(table, "pool_size=1&pool_timeout=200ms&lock_timeout=1s"));
  store->set({"k"}, 1);
  Raw raw;
  raw.conn->setAutoCommit(false);
  std::unique_ptr<sql::PreparedStatement> lock(
      raw.conn->prepareStatement("SELECT v FROM `" + table + "` WHERE k = ? FOR UPDATE"));
  lock->setString(1, kvstore::encode_key({"k"}));
  std::unique_ptr<sql::ResultSet> locked(lock->executeQuery());
  REQUIRE(locked->next());
  ErrorCode blocked = ErrorCode::internal;
  std::string native;
  bool unknown = true;
  std::thread writer([&] {
    try {
      store->cas({"k"}, Value(1), 2);
    } catch (const kvstore::Error& e) {
      blocked = e.code();
      native = e.native_code();
      unknown = e.outcome_unknown();
    }
  });
  std::this_thread::sleep_for(300ms);  // the writer now holds the only connection
  const auto start = std::chrono::steady_clock::now();
  CHECK(error_code_of([&] { store->get({"other"}); }) == ErrorCode::timeout);
  CHECK(std::chrono::steady_clock::now() - start < 1s);
  writer.join();
  CHECK(blocked == ErrorCode::timeout);  // a lock wait is a timeout, as in every driver
  CHECK(native == "1205");               // ER_LOCK_WAIT_TIMEOUT
  CHECK_FALSE(unknown);                  // InnoDB rolled the statement back
  raw.conn->rollback();
  CHECK(store->cas({"k"}, Value(1), 2));
}

TEST_CASE("the same store keeps working across server restarts", "[serial][restart]") {
  auto store = kvstore::open(url_for(fresh_table(), "pool_size=4"));
  // Open several pooled connections, so all of them go stale at once.
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] { store->set({"before", std::to_string(t)}, t); });
  }
  for (auto& t : threads) t.join();

  services("restart");
  CHECK(store->get({"before", "0"}) == Value(0));  // an idempotent call first
  store->set({"after"}, 1);
  CHECK(store->cas({"after"}, Value(1), 2));

  services("restart");
  CHECK(store->cas({"after"}, Value(2), 3));  // a cas first: it must not be lost
  CHECK(store->cas({"new"}, std::nullopt, "x"));
  CHECK(store->get({"after"}) == Value(3));
  std::size_t n = 0;
  for (const auto& e : store->list({"before"})) {
    (void)e;
    ++n;
  }
  CHECK(n == 4);

  services("restart");
  n = 0;
  for (const auto& e : store->list()) {
    (void)e;
    ++n;
  }
  CHECK(n == 6);
}

TEST_CASE("a stopped server gives unavailable, and the store recovers", "[serial][restart]") {
  auto store = kvstore::open(url_for(fresh_table(), "connect_timeout=2s"));
  store->set({"k"}, 1);
  services("stop");
  const auto start = std::chrono::steady_clock::now();
  CHECK(error_code_of([&] { store->get({"k"}); }) == ErrorCode::unavailable);
  CHECK(error_code_of([&] { store->cas({"k"}, Value(1), 2); }) == ErrorCode::unavailable);
  CHECK(std::chrono::steady_clock::now() - start < 5s);
  services("start");
  CHECK(store->get({"k"}) == Value(1));
  CHECK(store->cas({"k"}, Value(1), 2));
}

TEST_CASE("cas keeps one winner whatever the isolation level", "[serial][isolation]") {
  for (const char* level :
       {"READ-UNCOMMITTED", "READ-COMMITTED", "REPEATABLE-READ", "SERIALIZABLE"}) {
    INFO(level);
    as_root(std::string("SET GLOBAL tx_isolation='") + level + "'");
    auto store = kvstore::open(url_for(fresh_table(), "pool_size=16"));
    constexpr int kThreads = 16;
    for (int round = 0; round < 6; ++round) {
      const kvstore::KvKey key{"race", std::to_string(round)};
      if (round % 2 == 1) {
        store->set(key, "stale", {50ms});
        std::this_thread::sleep_for(150ms);
      }
      std::atomic<int> winners{0};
      std::barrier start(kThreads);
      std::vector<std::thread> threads;
      for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
          start.arrive_and_wait();
          if (store->cas(key, std::nullopt, t)) ++winners;
        });
      }
      for (auto& t : threads) t.join();
      CHECK(winners == 1);
    }
    // A get+cas counter.
    store->set({"counter"}, 0);
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
      threads.emplace_back([&] {
        for (int i = 0; i < 20; ++i) {
          for (;;) {
            std::optional<Value> current = store->get({"counter"});
            if (store->cas({"counter"}, current, current->get<int>() + 1)) break;
          }
        }
      });
    }
    for (auto& t : threads) t.join();
    CHECK(store->get({"counter"}) == Value(160));
  }
  as_root("SET GLOBAL tx_isolation='REPEATABLE-READ'");
}

TEST_CASE("a too small max_allowed_packet is reported clearly", "[serial][values]") {
  as_root("SET GLOBAL max_allowed_packet=1048576");
  std::string message;
  ErrorCode code;
  {
    auto store = kvstore::open(url_for(fresh_table()));
    // The first call: the driver learns max_allowed_packet as it connects.
    code = error_code_of([&] { store->set({"big"}, std::string(2 << 20, 'x')); }, &message);
    store->set({"small"}, 1);
    CHECK(error_code_of([&] { store->cas({"small"}, Value(1), std::string(2 << 20, 'x')); }) ==
          ErrorCode::limit_exceeded);
    CHECK(store->get({"small"}) == Value(1));
    CHECK_FALSE(store->get({"big"}).has_value());
  }
  as_root("SET GLOBAL max_allowed_packet=67108864");
  CHECK(code == ErrorCode::limit_exceeded);
  CHECK(message.find("max_allowed_packet") != std::string::npos);
}

namespace {

// The pid scripts/test-services.sh recorded for this run's mariadbd, checked
// to still be that server (never a process found by name).
pid_t mariadbd_pid() {
  std::ifstream file(test_support::services_dir() + "/mariadb/mariadbd.pid");
  pid_t pid = 0;
  file >> pid;
  REQUIRE(pid > 1);
  std::ifstream comm("/proc/" + std::to_string(pid) + "/comm");
  std::string name;
  comm >> name;
  REQUIRE(name == "mariadbd");
  return pid;
}

// Holds a process stopped (SIGSTOP) and continues it when it goes out of
// scope, so a failing check or an exception never leaves the server stopped.
class Stopped {
 public:
  explicit Stopped(pid_t pid) : pid_(pid) { REQUIRE(::kill(pid_, SIGSTOP) == 0); }
  ~Stopped() { resume(); }
  Stopped(const Stopped&) = delete;
  Stopped& operator=(const Stopped&) = delete;
  void resume() {
    if (pid_ > 0) ::kill(pid_, SIGCONT);
    pid_ = 0;
  }

 private:
  pid_t pid_;
};

}  // namespace

TEST_CASE("a stalled server: every call ends within its deadline, then the store recovers",
          "[serial][stall]") {
  const pid_t pid = mariadbd_pid();
  // Each call may block for one handshake (connect_timeout) and one read
  // (command_timeout): 2 s; the pool (8) never fills with 4 threads, so
  // pool_timeout adds nothing. 0.5 s of slack for a loaded machine and ASan.
  constexpr auto kBound = 2500ms;
  auto store = kvstore::open(
      url_for(fresh_table(), "command_timeout=1s&connect_timeout=1s&pool_timeout=1s"));
  constexpr int kThreads = 4;
  {
    std::vector<std::thread> warm;  // several pooled connections go stale together
    for (int t = 0; t < kThreads; ++t) {
      warm.emplace_back([&, t] { store->set({"before", std::to_string(t)}, t); });
    }
    for (auto& t : warm) t.join();
  }
  struct Call {
    std::string op;
    std::chrono::milliseconds took;
    std::optional<ErrorCode> code;  // nullopt: it succeeded
    std::string message;
  };
  std::vector<std::vector<Call>> calls(kThreads);
  {
    Stopped stopped(pid);
    const auto until = std::chrono::steady_clock::now() + 6s;
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; std::chrono::steady_clock::now() < until; ++i) {
          const std::string key = std::to_string(t) + "/" + std::to_string(i);
          Call call;
          const auto start = std::chrono::steady_clock::now();
          try {
            switch (i % 3) {
              case 0:
                call.op = "get";
                store->get({"before", std::to_string(t)});
                break;
              case 1:
                call.op = "set";
                store->set({"stalled", key}, i);
                break;
              default:
                call.op = "cas";
                store->cas({"stalled", key}, std::nullopt, i);
                break;
            }
          } catch (const kvstore::Error& e) {
            call.code = e.code();
            call.message = e.what();
          }
          call.took = std::chrono::duration_cast<std::chrono::milliseconds>(
              std::chrono::steady_clock::now() - start);
          calls[t].push_back(std::move(call));
        }
      });
    }
    for (auto& t : threads) t.join();
  }  // SIGCONT
  std::ostringstream summary;
  std::size_t n = 0;
  std::chrono::milliseconds longest{0};
  for (int t = 0; t < kThreads; ++t) {
    summary << "\nthread " << t << ":";
    for (const Call& call : calls[t]) {
      summary << " " << call.op << "=" << call.took.count() << "ms/"
              << (call.code ? std::string(kvstore::to_string(*call.code)) : "ok");
      longest = std::max(longest, call.took);
      ++n;
    }
  }
  WARN("stalled calls: " << n << ", longest " << longest.count() << " ms" << summary.str());
  CHECK(n >= 2 * kThreads);  // calls kept ending while the server stood still
  for (int t = 0; t < kThreads; ++t) {
    for (const Call& call : calls[t]) {
      INFO(call.op << " took " << call.took.count() << " ms: " << call.message);
      CHECK(call.took <= kBound);
      REQUIRE(call.code.has_value());  // nothing can succeed on a stopped server
      CHECK((*call.code == ErrorCode::timeout || *call.code == ErrorCode::unavailable));
      if (*call.code == ErrorCode::timeout) {
        // Says what timed out and after how long.
        const bool says_what = call.message.find("connecting") != std::string::npos ||
                               call.message.find("reading") != std::string::npos ||
                               call.message.find("ping") != std::string::npos ||
                               call.message.find("deadline") != std::string::npos;
        CHECK(says_what);
        CHECK(call.message.find(" ms") != std::string::npos);
      }
    }
  }
  // The same store works again, with no reopen.
  const auto start = std::chrono::steady_clock::now();
  CHECK(store->get({"before", "0"}) == Value(0));
  store->set({"after"}, 1);
  CHECK(store->cas({"after"}, Value(1), 2));
  CHECK(store->get({"after"}) == Value(2));
  CHECK(std::chrono::steady_clock::now() - start < 5s);
}

TEST_CASE("a cas whose connection dies after it was sent says its outcome is unknown",
          "[errors][outcome]") {
  const std::string table = fresh_table();
  auto store = kvstore::open(url_for(table, "lock_timeout=20s&command_timeout=30s"));
  store->set({"k"}, 1);
  Raw holder;  // holds the row lock, so that the cas is in the server when it dies
  holder.conn->setAutoCommit(false);
  std::unique_ptr<sql::PreparedStatement> lock(
      holder.conn->prepareStatement("SELECT v FROM `" + table + "` WHERE k = ? FOR UPDATE"));
  lock->setString(1, kvstore::encode_key({"k"}));
  std::unique_ptr<sql::ResultSet> locked(lock->executeQuery());
  REQUIRE(locked->next());
  std::optional<kvstore::Error> error;
  std::thread writer([&] {
    try {
      store->cas({"k"}, Value(1), 2);
    } catch (const kvstore::Error& e) {
      error = e;
    }
  });
  // The store's connection waiting in its UPDATE, found by its statement text.
  Raw killer;
  std::int64_t id = 0;
  for (int i = 0; i < 200 && id == 0; ++i) {
    std::this_thread::sleep_for(25ms);
    std::unique_ptr<sql::Statement> s(killer.conn->createStatement());
    std::unique_ptr<sql::ResultSet> rs(s->executeQuery(
        "SELECT ID FROM information_schema.PROCESSLIST WHERE ID <> CONNECTION_ID() AND INFO LIKE "
        "'UPDATE `" +
        table + "`%'"));
    if (rs->next()) id = rs->getInt64(1);
  }
  if (id != 0) killer.exec("KILL CONNECTION " + std::to_string(id));
  const auto killed = std::chrono::steady_clock::now();
  if (id == 0) holder.conn->rollback();  // let the writer finish before failing
  writer.join();
  const auto took = std::chrono::steady_clock::now() - killed;
  holder.conn->rollback();
  REQUIRE(id != 0);
  REQUIRE(error.has_value());
  INFO(error->what());
  CHECK(error->code() == ErrorCode::unavailable);
  CHECK(error->outcome_unknown());
  CHECK((error->native_code() == "2013" || error->native_code() == "1927"));
  CHECK(std::string(error->what()).find("outcome is unknown") != std::string::npos);
  CHECK(took < 5s);  // not repeated: a repeat would have waited for the lock again
  // The server rolled the killed UPDATE back; the store carries on.
  CHECK(store->get({"k"}) == Value(1));
  CHECK(store->cas({"k"}, Value(1), 2));
  CHECK(store->get({"k"}) == Value(2));
}

TEST_CASE("a store from typed Options: a password with @ : / needs no encoding", "[options]") {
  const kvstore::Url url = kvstore::Url::parse(base_url());
  const std::string database = url.path().substr(1);
  // as_root() runs the SQL through a shell in double quotes: no backticks or
  // '$' here; the test database's name is a plain identifier.
  const std::string user = "kvopt_" + std::to_string(::getpid());
  const std::string password = "p@ss:w/rd?#%41";
  as_root("CREATE OR REPLACE USER '" + user + "'@'127.0.0.1' IDENTIFIED BY '" + password +
          "'; GRANT ALL PRIVILEGES ON " + database + ".* TO '" + user + "'@'127.0.0.1'");
  kvstore::mysql::Options options;
  options.host = "127.0.0.1";
  options.port = url.port().value_or(3306);
  options.user = user;
  options.password = password;
  options.database = database;
  options.table = fresh_table();
  options.pool_size = 2;
  options.command_timeout = 5s;
  {
    auto store = kvstore::mysql::create(options);
    CHECK(store->driver_name() == "mysql");
    store->ping();
    store->set({"k"}, "v");
    CHECK(store->get({"k"}) == Value("v"));
    CHECK(store->cas({"k"}, Value("v"), "w"));
    CHECK(store->get({"k"}) == Value("w"));
  }
  // The same store through a URL needs the password percent-encoded.
  const std::string encoded =
      "mysql://" + user + ":p%40ss%3Aw%2Frd%3F%23%2541@127.0.0.1:" + std::to_string(options.port) +
      "/" + database + "?table=" + options.table + "&pool_size=2&command_timeout=5s";
  const kvstore::mysql::Options parsed = kvstore::mysql::Options::from_url(encoded);
  CHECK(parsed.password == password);
  CHECK(parsed.table == options.table);
  CHECK(kvstore::open(encoded)->get({"k"}) == Value("w"));
  // A wrong password through Options: refused by the server, never quoted.
  options.password = password + "x";
  auto wrong = kvstore::mysql::create(options);
  try {
    wrong->ping();
    FAIL("a wrong password worked");
  } catch (const kvstore::Error& e) {
    CHECK(e.code() == ErrorCode::permission_denied);
    CHECK(e.native_code() == "1045");
    CHECK(std::string(e.what()).find(password) == std::string::npos);
  }
  as_root("DROP USER '" + user + "'@'127.0.0.1'");
}

TEST_CASE("typed Options carry max_value_size and list_page_size to create()", "[options]") {
  const auto options = kvstore::mysql::Options::from_url(
      url_for(fresh_table(), "max_value_size=1KiB&list_page_size=2"));
  CHECK(options.store.max_value_bytes == std::optional<std::size_t>(1024));
  CHECK(options.store.list_page_size == std::optional<std::size_t>(2));
  test_support::check_small_store_settings(*kvstore::mysql::create(options), {"typed"});
  const auto plain = kvstore::mysql::create(kvstore::mysql::Options::from_url(base_url()));
  CHECK(plain->capabilities().max_value_bytes == kvstore::kDefaultMaxValueBytes);
  CHECK(plain->capabilities().list_page_size > 2);
}

TEST_CASE("create() does no I/O: the store connects on its first call", "[options][errors]") {
  kvstore::mysql::Options options;
  options.port = static_cast<std::uint16_t>(test_support::unused_loopback_port());
  options.user = "kvstore";
  options.password = "secret";
  options.database = "kvstore";
  options.connect_timeout = 2s;
  auto store = kvstore::mysql::create(options);  // nothing listens there: no error yet
  try {
    store->ping();
    FAIL("ping succeeded without a server");
  } catch (const kvstore::Error& e) {
    CHECK(e.code() == ErrorCode::unavailable);
    CHECK(e.retryable());
    CHECK(e.driver() == "mysql");
    CHECK((e.native_code() == "2002" || e.native_code() == "2003"));
    CHECK(std::string(e.what()).find("secret") == std::string::npos);
  }
  options.pool_size = 0;
  CHECK(error_code_of([&] { kvstore::mysql::create(options); }) == ErrorCode::invalid_argument);
  options.pool_size = 1;
  options.table = "a-b";
  CHECK(error_code_of([&] { kvstore::mysql::create(options); }) == ErrorCode::invalid_argument);
}

namespace {

std::vector<kvstore::SetEntry> numbered_entries(const std::string& first, std::size_t n,
                                                const std::string& value) {
  std::vector<kvstore::SetEntry> entries;
  for (std::size_t i = 0; i < n; ++i) {
    entries.push_back({{first, std::to_string(i)}, Value(value + std::to_string(i))});
  }
  return entries;
}

std::vector<kvstore::KvKey> keys_of(const std::vector<kvstore::SetEntry>& entries) {
  std::vector<kvstore::KvKey> keys;
  for (const auto& e : entries) keys.push_back(e.key);
  return keys;
}

std::chrono::milliseconds time_of(const std::function<void()>& call) {
  const auto started = std::chrono::steady_clock::now();
  call();
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                               started);
}

}  // namespace

TEST_CASE("bulk calls of 2000 keys take a few batches, not a round trip per key", "[bulk]") {
  const std::string url = base_url();
  const std::size_t host = url.find("@127.0.0.1:");
  REQUIRE(host != std::string::npos);
  test_support::FaultProxy proxy(std::stoi(url.substr(host + 11)));
  std::string proxied = url;
  const std::size_t end = proxied.find_first_not_of("0123456789", host + 11);
  proxied.replace(host + 11, end - host - 11, std::to_string(proxy.port()));
  proxied += std::string(proxied.find('?') == std::string::npos ? "?" : "&") +
             "table=" + fresh_table() + "&pool_size=1&sweep_interval=0";
  auto store = kvstore::open(proxied);
  auto entries = numbered_entries("k", 2000, std::string(1000, 'v'));
  const auto keys = keys_of(entries);
  // Prepares each batch size's statements before the clock runs.
  store->set_many(entries);
  store->get_many(keys);
  store->remove_many(keys);

  constexpr auto kEachWay = 50ms;
  proxy.delay(kEachWay);
  std::vector<std::optional<Value>> got;
  const auto set = time_of([&] { store->set_many(entries); });
  const auto get = time_of([&] { got = store->get_many(keys); });
  const auto removed = time_of([&] { store->remove_many(keys); });
  const auto after = time_of([&] { CHECK_FALSE(store->get(keys[7]).has_value()); });
  INFO("set_many " << set.count() << " ms, get_many " << get.count() << " ms, remove_many "
                   << removed.count() << " ms, one get " << after.count() << " ms");
  // 2000 keys = batches of 512, 512, 512, 256, 128, 64, 16: seven
  // statements, plus START TRANSACTION and COMMIT for the writes. A round
  // trip is 100 ms here; one per key would be 200 s.
  for (const auto t : {set, get, removed}) {
    CHECK(t >= 7 * 2 * kEachWay);
    CHECK(t < 25 * 2 * kEachWay);
  }
  REQUIRE(got.size() == entries.size());
  for (std::size_t i = 0; i < got.size(); ++i) CHECK(got[i] == entries[i].value);
}

TEST_CASE("a set_many whose last batch fails leaves none of its entries written", "[bulk]") {
  const std::string table = fresh_table();
  auto store = kvstore::open(url_for(table, "lock_timeout=1s"));
  store->set({"z"}, 0);
  // 1000 entries under "a" sort before {"z"}, which goes in the last batch.
  auto entries = numbered_entries("a", 1000, "x");
  entries.push_back({{"z"}, Value(1)});
  Raw raw;
  raw.conn->setAutoCommit(false);
  std::unique_ptr<sql::PreparedStatement> lock(
      raw.conn->prepareStatement("SELECT v FROM `" + table + "` WHERE k = ? FOR UPDATE"));
  lock->setString(1, kvstore::encode_key({"z"}));
  std::unique_ptr<sql::ResultSet> locked(lock->executeQuery());
  REQUIRE(locked->next());
  std::string message;
  CHECK(error_code_of([&] { store->set_many(entries); }, &message) == ErrorCode::timeout);
  INFO(message);
  raw.conn->rollback();
  raw.conn->setAutoCommit(true);
  CHECK(raw.count("SELECT COUNT(*) FROM `" + table + "`") == 1);  // only {"z"} = 0
  CHECK(store->get({"z"}) == Value(0));
  store->set_many(entries);
  CHECK(raw.count("SELECT COUNT(*) FROM `" + table + "`") == 1001);
  const auto got = store->get_many(keys_of(entries));
  for (std::size_t i = 0; i < got.size(); ++i) CHECK(got[i] == entries[i].value);
}

TEST_CASE("bulk writes of 34 MiB fit MariaDB's default 16 MiB max_allowed_packet",
          "[serial][bulk][values]") {
  as_root("SET GLOBAL max_allowed_packet=16777216");
  const std::string table = fresh_table();
  std::vector<kvstore::SetEntry> entries = numbered_entries("mb", 24, std::string(1 << 20, 'x'));
  entries.push_back({{"ten"}, Value(std::string(10 << 20, 't'))});  // a batch of its own
  bool written = false;
  ErrorCode too_big = ErrorCode::internal;
  std::vector<std::optional<Value>> got;
  {
    auto store = kvstore::open(url_for(table));
    store->set({"first"}, 1);  // connects: the driver reads max_allowed_packet
    try {
      store->set_many(entries);
      written = true;
      got = store->get_many(keys_of(entries));
      // As for set: an entry that cannot fit any statement is refused before any I/O.
      too_big = error_code_of([&] {
        store->set_many({{{"small"}, Value(1)}, {{"huge"}, Value(std::string(20 << 20, 'h'))}});
      });
      CHECK_FALSE(store->get({"small"}).has_value());
      store->remove_many(keys_of(entries));
      CHECK_FALSE(store->get({"ten"}).has_value());
    } catch (const kvstore::Error& e) {
      as_root("SET GLOBAL max_allowed_packet=67108864");
      FAIL(e.what());
    }
  }
  as_root("SET GLOBAL max_allowed_packet=67108864");
  CHECK(written);
  REQUIRE(got.size() == entries.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    INFO("entry " << i << " of " << got.size() << ": " << (got[i] ? "present" : "absent"));
    CHECK((got[i] == entries[i].value));
  }
  CHECK(too_big == ErrorCode::limit_exceeded);
}

// --- Metadata, absolute expiry, keys-only listings, layout versions ----------

namespace {

// Exactly the table the driver created before metadata (layout 1: commit
// a2f674f's create_table_text), with no layout record.
void create_layout1_table(Raw& raw, const std::string& table) {
  raw.exec("CREATE TABLE `" + table + "` (k VARBINARY(" +
           std::to_string(kvstore::kMaxEncodedKeyBytes) +
           ") NOT NULL, v LONGBLOB NOT NULL, expires_at BIGINT NULL, PRIMARY KEY (k),"
           " KEY expires_at (expires_at))"
           " ENGINE=InnoDB ROW_FORMAT=DYNAMIC DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin");
}

// A layout-1 row as the old driver wrote it: encoded key, JSON text, and the
// expiry it computed (now + ttl on the server clock) or NULL.
void insert_layout1_row(Raw& raw, const std::string& table, const kvstore::KvKey& key,
                        const std::string& json, std::optional<std::int64_t> ttl_ms) {
  std::unique_ptr<sql::PreparedStatement> s(raw.conn->prepareStatement(
      "INSERT INTO `" + table + "` (k, v, expires_at) VALUES (?, ?, " +
      (ttl_ms ? std::string(kNowMs) + " + ?" : std::string("NULL")) + ")"));
  const std::string k = kvstore::encode_key(key);
  s->setString(1, sql::SQLString(k.data(), k.size()));
  s->setString(2, sql::SQLString(json.data(), json.size()));
  if (ttl_ms) s->setInt64(3, *ttl_ms);
  s->executeUpdate();
}

std::string table_comment(Raw& raw, const std::string& table) {
  std::unique_ptr<sql::Statement> s(raw.conn->createStatement());
  std::unique_ptr<sql::ResultSet> rs(
      s->executeQuery("SELECT TABLE_COMMENT FROM information_schema.TABLES WHERE TABLE_SCHEMA ="
                      " DATABASE() AND TABLE_NAME = '" +
                      table + "'"));
  REQUIRE(rs->next());
  return rs->getString(1);
}

std::int64_t expiry_ms(const std::optional<kvstore::Clock::time_point>& t) {
  REQUIRE(t.has_value());
  return std::chrono::duration_cast<std::chrono::milliseconds>(t->time_since_epoch()).count();
}

}  // namespace

TEST_CASE("a layout-1 table is upgraded in place, keeping values and TTLs", "[schema][layout]") {
  const std::string table = fresh_table();
  Raw raw;
  create_layout1_table(raw, table);
  insert_layout1_row(raw, table, {"a"}, R"({"x":[1,2,3]})", std::nullopt);
  insert_layout1_row(raw, table, {"a", "ttl"}, R"("expires")", 3'600'000);
  insert_layout1_row(raw, table, {"b"}, "null", std::nullopt);
  insert_layout1_row(raw, table, {"gone"}, "1", -1000);  // expired before the upgrade
  const std::int64_t ttl_at = raw.count("SELECT expires_at FROM `" + table + "` WHERE k = '" +
                                        kvstore::encode_key({"a", "ttl"}) + "'");
  CHECK(table_comment(raw, table).empty());

  auto store = kvstore::open(url_for(table));
  CHECK(store->get({"a"}) == Value::parse(R"({"x":[1,2,3]})"));
  CHECK(store->get({"b"}) == Value(nullptr));
  CHECK_FALSE(store->get({"gone"}).has_value());
  CHECK(table_comment(raw, table) == "kvstore layout 2");
  CHECK(raw.count("SELECT COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA ="
                  " DATABASE() AND TABLE_NAME = '" +
                  table + "' AND COLUMN_NAME = 'metadata'") == 1);

  const auto entry = store->get_entry({"a", "ttl"});
  REQUIRE(entry.has_value());
  CHECK(entry->value == Value("expires"));
  CHECK_FALSE(entry->metadata.has_value());
  CHECK(expiry_ms(entry->expires_at) == ttl_at);  // the TTL survived, to the ms

  std::vector<kvstore::Entry> listed;
  for (const auto& e : store->list()) listed.push_back(e);
  REQUIRE(listed.size() == 3);
  CHECK(listed[0].key == kvstore::KvKey{"a"});
  CHECK(listed[1].key == kvstore::KvKey{"a", "ttl"});
  CHECK(listed[2].key == kvstore::KvKey{"b"});
  CHECK_FALSE(listed[0].expires_at.has_value());
  CHECK(expiry_ms(listed[1].expires_at) == ttl_at);
  for (const auto& e : listed) CHECK_FALSE(e.metadata.has_value());

  // Upgraded, it takes metadata; a second opener finds layout 2 as it is.
  kvstore::SetOptions with;
  with.metadata = Value{{"v", 2}};
  store->set({"a"}, 5, with);
  auto again = kvstore::open(url_for(table));
  const auto a = again->get_entry({"a"});
  REQUIRE(a.has_value());
  CHECK(a->metadata == Value{{"v", 2}});
  CHECK(again->get({"a", "ttl"}) == Value("expires"));
}

TEST_CASE("stores opening one layout-1 table at once upgrade it once, losing nothing",
          "[schema][layout]") {
  const std::string table = fresh_table();
  Raw raw;
  create_layout1_table(raw, table);
  constexpr int kOld = 200;
  for (int i = 0; i < kOld; ++i) {
    insert_layout1_row(raw, table, {"old", std::to_string(i)}, std::to_string(i),
                       i % 2 == 0 ? std::optional<std::int64_t>(3'600'000) : std::nullopt);
  }
  constexpr int kStores = 8;
  std::barrier start(kStores);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kStores; ++i) {
    threads.emplace_back([&, i] {
      try {
        auto store = kvstore::open(url_for(table));
        start.arrive_and_wait();
        kvstore::SetOptions options;
        options.metadata = Value(i);
        store->set({"new", std::to_string(i)}, i, options);
        if (store->get({"old", std::to_string(i)}) != Value(i)) ++failures;
      } catch (const std::exception& e) {
        UNSCOPED_INFO(e.what());
        ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(failures == 0);
  CHECK(table_comment(raw, table) == "kvstore layout 2");
  auto store = kvstore::open(url_for(table));
  int old = 0;
  int with_ttl = 0;
  for (const auto& e : store->list({"old"})) {
    ++old;
    if (e.expires_at) ++with_ttl;
    CHECK(e.value == Value(std::stoi(e.key[1])));
  }
  CHECK(old == kOld);
  CHECK(with_ttl == kOld / 2);
  for (int i = 0; i < kStores; ++i) {
    const auto e = store->get_entry({"new", std::to_string(i)});
    REQUIRE(e.has_value());
    CHECK(e->metadata == Value(i));
  }
}

TEST_CASE("a table of a newer layout fails every call with unsupported", "[schema][layout]") {
  const std::string table = fresh_table();
  Raw raw;
  raw.exec("CREATE TABLE `" + table +
           "` (k VARBINARY(2304) NOT NULL PRIMARY KEY, v LONGBLOB NOT NULL, expires_at BIGINT,"
           " metadata BLOB, extra INT) COMMENT='kvstore layout 3'");
  raw.exec("INSERT INTO `" + table + "` (k, v) VALUES ('" + kvstore::encode_key({"k"}) + "', '1')");
  auto store = kvstore::open(url_for(table));
  for (int i = 0; i < 3; ++i) {
    std::string message;
    const ErrorCode code = error_code_of(
        [&] {
          if (i == 0) store->get({"k"});
          if (i == 1) store->set({"k"}, 2);
          if (i == 2) (void)store->get_entry({"k"});
        },
        &message);
    INFO(message);
    CHECK(code == ErrorCode::unsupported);
    CHECK(message.find("layout version 3 is newer than this kvstore supports (2)") !=
          std::string::npos);
    CHECK(message.find("`" + table + "`") != std::string::npos);
  }
  // Nothing was changed: the row, the columns, the record.
  CHECK(raw.count("SELECT COUNT(*) FROM `" + table + "` WHERE v = '1'") == 1);
  CHECK(table_comment(raw, table) == "kvstore layout 3");
}

TEST_CASE("a layout-1 lookalike with another column is foreign, not upgraded", "[schema][layout]") {
  const std::string table = fresh_table();
  Raw raw;
  raw.exec("CREATE TABLE `" + table +
           "` (k VARBINARY(2304) NOT NULL PRIMARY KEY, v LONGBLOB NOT NULL, expires_at BIGINT,"
           " owner INT)");
  auto store = kvstore::open(url_for(table));
  std::string message;
  CHECK(error_code_of([&] { store->set({"k"}, 1); }, &message) == ErrorCode::invalid_argument);
  INFO(message);
  CHECK(message.find("owner int") != std::string::npos);
  CHECK(raw.count("SELECT COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA ="
                  " DATABASE() AND TABLE_NAME = '" +
                  table + "'") == 4);  // no metadata column was added
  CHECK(table_comment(raw, table).empty());
}

TEST_CASE("metadata is stored byte for byte: JSON null is not absent", "[metadata]") {
  const std::string table = fresh_table();
  auto store = kvstore::open(url_for(table));
  Raw raw;
  auto raw_metadata = [&](const kvstore::KvKey& key) -> std::optional<std::string> {
    std::unique_ptr<sql::PreparedStatement> s(
        raw.conn->prepareStatement("SELECT metadata FROM `" + table + "` WHERE k = ?"));
    const std::string k = kvstore::encode_key(key);
    s->setString(1, sql::SQLString(k.data(), k.size()));
    std::unique_ptr<sql::ResultSet> rs(s->executeQuery());
    REQUIRE(rs->next());
    if (rs->isNull(1)) return std::nullopt;
    const sql::SQLString text = rs->getString(1);
    return std::string(text.c_str(), text.length());
  };
  kvstore::SetOptions null_metadata;
  null_metadata.metadata = Value(nullptr);
  store->set({"null"}, 1, null_metadata);
  store->set({"none"}, 1);
  kvstore::SetOptions unicode;
  unicode.metadata = Value{{"s", std::string("\xc3\xa9\xf0\x9f\x98\x80") + '\0' + "\"\\"}};
  store->set({"unicode"}, 1, unicode);
  CHECK(raw_metadata({"null"}) == "null");
  CHECK_FALSE(raw_metadata({"none"}).has_value());
  CHECK(raw_metadata({"unicode"}) == unicode.metadata->dump());

  const auto null_entry = store->get_entry({"null"});
  REQUIRE(null_entry.has_value());
  REQUIRE(null_entry->metadata.has_value());
  CHECK(null_entry->metadata->is_null());
  CHECK_FALSE(store->get_entry({"none"})->metadata.has_value());
  CHECK(store->get_entry({"unicode"})->metadata == unicode.metadata);

  // Each write replaces the metadata: a set, a cas and a set_many without it
  // leave none.
  store->set({"null"}, 2);
  CHECK_FALSE(raw_metadata({"null"}).has_value());
  CHECK(store->cas({"unicode"}, Value(1), Value(1)));  // same value, metadata dropped
  CHECK_FALSE(raw_metadata({"unicode"}).has_value());
  CHECK(store->cas({"unicode"}, Value(1), Value(1), unicode));  // and back
  CHECK(raw_metadata({"unicode"}) == unicode.metadata->dump());
  store->set_many({{{"unicode"}, Value(1)}, {{"none"}, Value(3), null_metadata}});
  CHECK_FALSE(raw_metadata({"unicode"}).has_value());
  CHECK(raw_metadata({"none"}) == "null");
  // A failed cas changes nothing.
  CHECK_FALSE(store->cas({"none"}, Value(99), Value(4)));
  CHECK(raw_metadata({"none"}) == "null");
}

TEST_CASE("expires_at is stored as given, to the millisecond", "[ttl][metadata]") {
  const std::string table = fresh_table();
  auto store = kvstore::open(url_for(table));
  Raw raw;
  const auto at = std::chrono::time_point_cast<std::chrono::milliseconds>(
      kvstore::Clock::now() + std::chrono::hours(5) + 123ms);
  const std::int64_t at_ms = at.time_since_epoch().count();
  kvstore::SetOptions options;
  options.expires_at = at;
  store->set({"set"}, 1, options);
  CHECK(store->cas({"cas"}, std::nullopt, Value(1), options));
  store->set_many({{{"bulk"}, Value(1), options}});
  for (const char* key : {"set", "cas", "bulk"}) {
    INFO(key);
    CHECK(raw.count("SELECT expires_at FROM `" + table + "` WHERE k = '" +
                    kvstore::encode_key({key}) + "'") == at_ms);
    CHECK(expiry_ms(store->get_entry({key})->expires_at) == at_ms);
  }
  // A TTL write reports the server clock's now + ttl.
  const std::int64_t before = raw.count(std::string("SELECT ") + kNowMs);
  kvstore::SetOptions ttl;
  ttl.ttl = 60s;
  store->set({"ttl"}, 1, ttl);
  const std::int64_t after = raw.count(std::string("SELECT ") + kNowMs);
  const std::int64_t got = expiry_ms(store->get_entry({"ttl"})->expires_at);
  CHECK(got >= before + 60'000);
  CHECK(got <= after + 60'000);
  // An expiry that has passed by the time the row is read: invisible.
  kvstore::SetOptions soon;
  soon.expires_at =
      std::chrono::time_point_cast<std::chrono::milliseconds>(kvstore::Clock::now() + 50ms);
  store->set({"soon"}, 1, soon);
  std::this_thread::sleep_for(100ms);
  CHECK_FALSE(store->get_entry({"soon"}).has_value());
  for (const auto& e : store->list_keys()) CHECK(e.key != kvstore::KvKey{"soon"});
}

TEST_CASE("list_keys reads no values: listing large values moves a few bytes", "[list_keys]") {
  const std::string url = base_url();
  const std::size_t host = url.find("@127.0.0.1:");
  REQUIRE(host != std::string::npos);
  test_support::FaultProxy proxy(std::stoi(url.substr(host + 11)));
  std::string proxied = url;
  const std::size_t end = proxied.find_first_not_of("0123456789", host + 11);
  proxied.replace(host + 11, end - host - 11, std::to_string(proxy.port()));
  proxied += std::string(proxied.find('?') == std::string::npos ? "?" : "&") +
             "table=" + fresh_table() + "&pool_size=1&sweep_interval=0";
  auto store = kvstore::open(proxied);
  constexpr int kEntries = 8;
  constexpr std::size_t kValueBytes = 256 * 1024;
  kvstore::SetOptions options;
  options.metadata = Value{{"size", kValueBytes}};
  for (int i = 0; i < kEntries; ++i) {
    store->set({"big", std::to_string(i)}, std::string(kValueBytes, 'v'), options);
  }
  (void)store->list_keys({"big"}).begin();  // prepares the statement before counting

  // In split mode the proxy writes the server's replies to the client one
  // byte per write: client_writes() counts the bytes the listing moved.
  proxy.split();
  const std::uint64_t before = proxy.client_writes();
  int listed = 0;
  for (const auto& e : store->list_keys({"big"})) {
    ++listed;
    CHECK(e.metadata == options.metadata);
  }
  const std::uint64_t moved = proxy.client_writes() - before;
  proxy.pass();
  INFO("list_keys of " << kEntries << " values of " << kValueBytes << " bytes moved " << moved
                       << " bytes");
  CHECK(listed == kEntries);
  CHECK(moved > 0);
  CHECK(moved < 4096);  // the values are 2 MiB; one alone is 256 KiB
}
