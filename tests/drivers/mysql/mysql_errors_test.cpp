// Server-less tests of the MySQL driver: its native error table (the
// classifier the kit's retry runner uses), URL <-> Options parsing and the
// bulk calls' batch plan. They
// build the driver's sources without Connector/C++ and need no server.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

#include <kvstore/driver.h>
#include <kvstore/mysql.h>

#include "mysql_errors.h"
#include "mysql_options.h"
#include "mysql_sql.h"

using namespace std::chrono_literals;
using kvstore::ErrorCode;
using kvstore::Failure;
using kvstore::Idempotence;
using kvstore::mysql::classify;
using kvstore::mysql::ServerError;

namespace {

Failure classified(int number, bool timed_out = false, bool write_sent = false) {
  return classify(ServerError("server says no", number, timed_out, write_sent));
}

kvstore::Error error_for(int number, Idempotence idempotence, bool timed_out = false,
                         bool write_sent = false) {
  return kvstore::to_error(classified(number, timed_out, write_sent), idempotence);
}

}  // namespace

TEST_CASE("configuration errors are never retryable", "[errors]") {
  for (int number : {1044, 1045, 1130, 1142, 1227, 1290, 1698, 1792, 1836}) {
    INFO(number);
    const kvstore::Error e = error_for(number, Idempotence::idempotent);
    CHECK(e.code() == ErrorCode::permission_denied);
    CHECK_FALSE(e.retryable());
    CHECK(e.native_code() == std::to_string(number));
    CHECK_FALSE(classified(number).connection_broken);
  }
  for (int number : {1049, 1102, 1300, 1054}) {
    INFO(number);
    const kvstore::Error e = error_for(number, Idempotence::idempotent);
    CHECK(e.code() == ErrorCode::invalid_argument);
    CHECK_FALSE(e.retryable());
    CHECK(e.native_code() == std::to_string(number));
  }
}

TEST_CASE("lock waits and statement timeouts are timeout, deadlocks are conflict", "[errors]") {
  for (int number : {1205, 1969, 3024}) {
    INFO(number);
    const Failure f = classified(number);
    CHECK(f.code == ErrorCode::timeout);
    CHECK_FALSE(f.connection_broken);
    CHECK_FALSE(f.transient);  // repeating would wait as long again
    CHECK_FALSE(f.maybe_sent);
    const kvstore::Error e = kvstore::to_error(f, Idempotence::not_idempotent);
    CHECK(e.retryable());
    CHECK_FALSE(e.outcome_unknown());
    CHECK(e.native_code() == std::to_string(number));
  }
  const Failure deadlock = classified(1213);
  CHECK(deadlock.code == ErrorCode::conflict);
  CHECK(deadlock.transient);
  CHECK_FALSE(deadlock.maybe_sent);  // rolled back: even a cas may run again
  CHECK_FALSE(deadlock.connection_broken);
  CHECK(error_for(1213, Idempotence::not_idempotent).retryable());
}

TEST_CASE("connection failures: unavailable or timeout, and whether a cas may have run",
          "[errors]") {
  for (int number : {2002, 2003, 2005, 2006, 1053, 1040}) {
    INFO(number);
    const Failure f = classified(number, false, true);
    CHECK(f.code == ErrorCode::unavailable);
    CHECK(f.connection_broken);
    CHECK(f.transient);
    CHECK_FALSE(f.maybe_sent);  // never reached the server, whatever was attempted
    CHECK_FALSE(kvstore::to_error(f, Idempotence::not_idempotent).outcome_unknown());
  }
  for (int number : {2013, 2055, 1927, 4031, 1158, 1160}) {
    INFO(number);
    const kvstore::Error cas = error_for(number, Idempotence::not_idempotent, false, true);
    CHECK(cas.code() == ErrorCode::unavailable);
    CHECK(cas.retryable());
    CHECK(cas.outcome_unknown());
    CHECK(cas.native_code() == std::to_string(number));
    // Before any write was sent, or for an idempotent call, the outcome is known.
    CHECK_FALSE(error_for(number, Idempotence::not_idempotent).outcome_unknown());
    CHECK_FALSE(error_for(number, Idempotence::idempotent, false, true).outcome_unknown());
  }
  // A step that ran into its client-side timeout ends the call.
  const Failure timed_out = classified(2013, true);
  CHECK(timed_out.code == ErrorCode::timeout);
  CHECK(timed_out.connection_broken);
  CHECK_FALSE(timed_out.transient);
}

TEST_CASE("other server errors", "[errors]") {
  for (int number : {1153, 2020, 1406}) {
    INFO(number);
    CHECK(classified(number).code == ErrorCode::limit_exceeded);
  }
  CHECK(classified(1153).connection_broken);  // the server drops such a connection
  const Failure unknown = classified(1064);
  CHECK(unknown.code == ErrorCode::internal);
  CHECK(unknown.native_code == "1064");
  CHECK(unknown.message == "server says no");
  // Not a ServerError: the connection's state is unknown.
  const Failure other = classify(std::runtime_error("bad_alloc or the like"));
  CHECK(other.code == ErrorCode::internal);
  CHECK(other.connection_broken);
  CHECK(other.native_code.empty());
}

TEST_CASE("the kit's retry runner with this classifier", "[errors][kit]") {
  kvstore::ConnectionPool<int> pool({}, [] { return std::make_unique<int>(0); });
  { auto warm = pool.acquire(); }  // later leases reuse this connection: not fresh
  const auto deadline = kvstore::deadline_after(5s);
  int calls = 0;
  SECTION("a cas whose reply was lost is not repeated and says outcome unknown") {
    try {
      kvstore::run_with_retry(pool, classify, Idempotence::not_idempotent, deadline, [&](int&) {
        ++calls;
        throw ServerError("connection lost", 2013, false, true);
        return 0;
      });
      FAIL("no error");
    } catch (const kvstore::Error& e) {
      CHECK(e.code() == ErrorCode::unavailable);
      CHECK(e.outcome_unknown());
      CHECK(e.native_code() == "2013");
    }
    CHECK(calls == 1);
  }
  SECTION("a read on a stale connection is repeated on a new one") {
    const int got =
        kvstore::run_with_retry(pool, classify, Idempotence::idempotent, deadline, [&](int&) {
          if (++calls == 1) throw ServerError("connection lost", 2013);
          return 42;
        });
    CHECK(got == 42);
    CHECK(calls == 2);
  }
  SECTION("a deadlocked cas runs again") {
    const bool swapped = kvstore::run_with_retry(
        pool, classify, Idempotence::not_idempotent, deadline,
        [&](int&) {
          if (++calls < 3) throw ServerError("deadlock", 1213, false, true);
          return true;
        },
        kvstore::RetryPolicy{20, 1ms});
    CHECK(swapped);
    CHECK(calls == 3);
  }
  SECTION("a lock wait timeout is not repeated") {
    CHECK_THROWS_AS(kvstore::run_with_retry(pool, classify, Idempotence::idempotent, deadline,
                                            [&](int&) {
                                              ++calls;
                                              throw ServerError("lock wait", 1205, false, true);
                                              return 0;
                                            }),
                    kvstore::Error);
    CHECK(calls == 1);
  }
}

TEST_CASE("Options from a URL: shared parameters with the shared defaults", "[url]") {
  const auto o = kvstore::mysql::Options::from_url("mysql://app:p%40ss%3Aw%2Frd@db.example/kv");
  CHECK(o.host == "db.example");
  CHECK(o.port == 3306);
  CHECK(o.user == "app");
  CHECK(o.password == "p@ss:w/rd");  // decoded
  CHECK(o.database == "kv");
  CHECK(o.table == "kvstore");
  const kvstore::ConnectionOptions shared;
  CHECK(o.pool_size == shared.pool_size);
  CHECK(o.pool_timeout == shared.pool_timeout);
  CHECK(o.connect_timeout == shared.connect_timeout);
  CHECK(o.command_timeout == shared.command_timeout);
  const kvstore::SweepOptions sweep;
  CHECK(o.sweep_interval == sweep.sweep_interval);
  CHECK(o.sweep_batch == sweep.sweep_batch);
  CHECK(o.lock_timeout == 5s);  // below command_timeout

  const auto p = kvstore::mysql::Options::from_url(
      "mariadb://[::1]:3307/kv?table=t1&pool_size=3&pool_timeout=250ms&connect_timeout=2s"
      "&command_timeout=3s&lock_timeout=4s&sweep_interval=0&sweep_batch=7"
      "&max_value_size=1MiB&list_page_size=9");
  CHECK(p.host == "::1");
  CHECK(p.port == 3307);
  CHECK(p.table == "t1");
  CHECK(p.pool_size == 3);
  CHECK(p.pool_timeout == 250ms);
  CHECK(p.connect_timeout == 2s);
  CHECK(p.command_timeout == 3s);
  CHECK(p.lock_timeout == 4s);
  CHECK(p.sweep_interval == 0ms);
  CHECK(p.sweep_batch == 7);
  CHECK(p.store.max_value_bytes == std::optional<std::size_t>(1 << 20));
  CHECK(p.store.list_page_size == std::optional<std::size_t>(9));
  CHECK(kvstore::mysql::describe_server(p) == "mysql://[::1]:3307/kv");
}

TEST_CASE("io_timeout is a deprecated alias of command_timeout", "[url]") {
  CHECK(kvstore::mysql::Options::from_url("mysql://h/db?io_timeout=2s").command_timeout == 2s);
  try {
    kvstore::mysql::Options::from_url("mysql://u:secret@h/db?io_timeout=2s&command_timeout=3s");
    FAIL("both were accepted");
  } catch (const kvstore::Error& e) {
    CHECK(e.code() == ErrorCode::invalid_argument);
    CHECK(e.driver() == "mysql");
    CHECK(e.message().find("command_timeout") != std::string::npos);
    CHECK(e.message().find("secret") == std::string::npos);
  }
}

TEST_CASE("Options are checked like a URL", "[url]") {
  auto rejected = [](const std::string& url) {
    try {
      kvstore::mysql::Options::from_url(url);
    } catch (const kvstore::Error& e) {
      CHECK(e.code() == ErrorCode::invalid_argument);
      CHECK(e.driver() == "mysql");
      CHECK(std::string(e.what()).find("secret") == std::string::npos);
      return true;
    }
    return false;
  };
  for (const char* bad :
       {"mysql://u:secret@h/", "mysql://u:secret@h/a/b", "mysql://u:secret@h/%FF",
        "mysql://u:secret@h/db?table=a-b", "mysql://u:secret@h/db?pool_size=0",
        "mysql://u:secret@h/db?pool_size=1025", "mysql://u:secret@h/db?command_timeout=0",
        "mysql://u:secret@h/db?command_timeout=61m", "mysql://u:secret@h/db?sweep_batch=0",
        "mysql://u:secret@h/db?bogus=1", "redis://u:secret@h/db", "mysql:db"}) {
    INFO(bad);
    CHECK(rejected(bad));
  }
  kvstore::mysql::Options options;
  options.database = "db";
  CHECK_NOTHROW(kvstore::mysql::validate(options));
  options.pool_size = 0;
  CHECK_THROWS_AS(kvstore::mysql::validate(options), kvstore::Error);
  options.pool_size = 8;
  options.command_timeout = 0ms;
  CHECK_THROWS_AS(kvstore::mysql::validate(options), kvstore::Error);
  options.command_timeout = 1s;
  options.table = "x`; DROP TABLE kvstore; --";
  CHECK_THROWS_AS(kvstore::mysql::validate(options), kvstore::Error);
}

TEST_CASE("bulk batches: bounded by rows and bytes, powers of two, covering every item", "[bulk]") {
  using kvstore::mysql::bulk_batches;
  using kvstore::mysql::kBulkRows;
  auto check_plan = [](const std::vector<std::size_t>& sizes, std::size_t max_bytes) {
    const std::vector<std::size_t> batches = bulk_batches(sizes, max_bytes);
    std::size_t next = 0;
    for (const std::size_t n : batches) {
      CHECK(n >= 1);
      CHECK(n <= kBulkRows);
      CHECK((n & (n - 1)) == 0);
      const std::size_t bytes =
          std::accumulate(sizes.begin() + static_cast<std::ptrdiff_t>(next),
                          sizes.begin() + static_cast<std::ptrdiff_t>(next + n), std::size_t{0});
      CHECK((bytes <= max_bytes || n == 1));
      next += n;
    }
    CHECK(next == sizes.size());
    return batches;
  };
  // By count: 2000 small items.
  CHECK(check_plan(std::vector<std::size_t>(2000, 100), 4 << 20) ==
        std::vector<std::size_t>{512, 512, 512, 256, 128, 64, 16});
  // By bytes: 1 MiB items, 4 MiB a batch, and an item bigger than that alone.
  std::vector<std::size_t> mixed(9, std::size_t{1} << 20);
  mixed.insert(mixed.begin() + 5, std::size_t{10} << 20);
  CHECK(check_plan(mixed, 4 << 20) == std::vector<std::size_t>{4, 1, 1, 4});
  CHECK(check_plan({7}, 1) == std::vector<std::size_t>{1});
  std::vector<std::size_t> uneven;
  for (std::size_t i = 0; i < 5000; ++i) uneven.push_back((i * 7919) % 40000);
  check_plan(uneven, 1 << 20);
}
