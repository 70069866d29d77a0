// Conformance: errors carry their properties; a store stays usable after them.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <thread>
#include <vector>

#include "fixture.h"
#include "support.h"

TEST_CASE("errors: carry code and driver and retryability and the store stays usable", "[errors]") {
  auto store = conformance::open_store();
  const std::string driver = store->driver_name();
  REQUIRE_FALSE(driver.empty());
  try {
    store->set({}, 1);
    FAIL("an empty key was accepted");
  } catch (const kvstore::Error& e) {
    CHECK(e.code() == kvstore::ErrorCode::invalid_argument);
    CHECK(e.driver() == driver);
    CHECK_FALSE(e.retryable());
    CHECK(std::string(e.what()).find("kvstore[" + driver + "]") == 0);
  }
  store->set({"after"}, "error");
  CHECK(store->get({"after"}) == kvstore::Value("error"));
}

TEST_CASE("errors: unknown URL parameters are rejected", "[errors]") {
  (void)conformance::open_store();
  std::string url = conformance::last_url();
  url += (url.find('?') == std::string::npos ? "?" : "&");
  url += "no_such_parameter=1";
  support::require_error(kvstore::ErrorCode::invalid_argument, [&] { kvstore::open(url); });
}

TEST_CASE("capabilities: limits are the documented ones", "[errors]") {
  auto store = conformance::open_store();
  const kvstore::Capabilities& caps = store->capabilities();
  CHECK(caps.max_key_bytes == kvstore::kMaxKeyBytes);
  CHECK(caps.max_value_bytes == kvstore::kDefaultMaxValueBytes);
  CHECK(caps.list_page_size >= 1);
  if (caps.shared) CHECK(caps.persistent);
}

TEST_CASE("errors: every call names the driver, list included", "[errors]") {
  auto store = conformance::open_store();
  const std::string driver = store->driver_name();
  const kvstore::KvKey too_long = {std::string(2000, 'z')};
  const kvstore::KvKey bad_utf8 = {"\xff"};
  struct Call {
    const char* name;
    std::function<void()> run;
  };
  const std::vector<Call> calls = {
      {"get", [&] { store->get(too_long); }},
      {"list prefix", [&] { store->list(too_long).to_vector(); }},
      {"list_json prefix", [&] { store->list_json(too_long).to_vector(); }},
      {"list bad prefix", [&] { store->list(bad_utf8).to_vector(); }},
      {"list start_after",
       [&] {
         store->list({}, {too_long, std::nullopt}).to_vector();
       }},
      {"list_json start_after",
       [&] {
         store->list_json({}, {bad_utf8, std::nullopt}).to_vector();
       }},
  };
  for (const Call& call : calls) {
    INFO(call.name);
    try {
      call.run();
      FAIL("accepted");
    } catch (const kvstore::Error& e) {
      CHECK(e.driver() == driver);
      CHECK(std::string(e.what()).find("kvstore[" + driver + "]") == 0);
    }
  }
}

TEST_CASE("errors: a listing whose store was destroyed throws instead of reading freed memory",
          "[errors][list]") {
  auto store = conformance::open_store_with("list_page_size=2");
  const std::string driver = store->driver_name();
  for (int i = 0; i < 5; ++i) store->set({"d", std::to_string(i)}, i);
  auto range = store->list({"d"});
  auto unstarted = store->list_json({"d"});
  auto it = range.begin();
  REQUIRE(it != range.end());
  CHECK(it->key == kvstore::KvKey{"d", "0"});
  store.reset();
  if (conformance::api() == conformance::Api::asio) {
    // The adapter's cursors hold the store: it outlives the handle, and the
    // listings run to their end.
    int rest = 0;
    for (++it; it != range.end(); ++it) ++rest;
    CHECK(rest == 4);
    CHECK(unstarted.to_vector().size() == 5);
    return;
  }
  // Entries already fetched (the page in hand, and through the async API at
  // most one page ahead) still come; the next page needs the store and throws.
  int fetched_after_reset = 0;
  auto step = [&] {
    ++it;
    REQUIRE(it != range.end());
    ++fetched_after_reset;
    CHECK(it->key == kvstore::KvKey{"d", std::to_string(fetched_after_reset)});
  };
  for (auto next : std::vector<std::function<void()>>{[&] {
                                                        for (int i = 0; i < 4; ++i) step();
                                                      },
                                                      [&] { unstarted.begin(); }}) {
    try {
      next();
      FAIL("a destroyed store's listing went on");
    } catch (const kvstore::Error& e) {
      CHECK(e.code() == kvstore::ErrorCode::unavailable);
      CHECK(e.driver() == driver);
      CHECK_FALSE(e.retryable());
    }
  }
  CHECK(fetched_after_reset >= 1);  // the rest of the page in hand
  CHECK(fetched_after_reset <= 3);  // never past one page ahead
}

TEST_CASE("errors: kvstore's own errors have no native code and a known outcome", "[errors]") {
  auto store = conformance::open_store();
  for (const auto& call : std::vector<std::function<void()>>{
           [&] { store->set({}, 1); }, [&] { store->set_json({"k"}, "{"); },
           [&] { store->cas({"k"}, std::nullopt, 1, {std::chrono::milliseconds(-1)}); },
           [&] { store->list({"\xff"}).to_vector(); }}) {
    try {
      call();
      FAIL("accepted");
    } catch (const kvstore::Error& e) {
      CHECK(e.native_code().empty());
      CHECK_FALSE(e.outcome_unknown());
    }
  }
}

TEST_CASE("errors: an exhausted pool waits pool_timeout at most, then says timeout",
          "[errors][concurrency]") {
  auto probe = conformance::open_store();
  const std::string driver = probe->driver_name();
  if (!probe->capabilities().pooled) {
    // A store without a pool refuses the pool parameters instead of ignoring them.
    const std::string url = conformance::last_url();
    try {
      kvstore::open(url + (url.find('?') == std::string::npos ? "?" : "&") + "pool_size=1");
      FAIL("a store without a pool took pool_size");
    } catch (const kvstore::Error& e) {
      CHECK(e.code() == kvstore::ErrorCode::invalid_argument);
    }
    return;
  }
  // One connection, slow calls (a page of 2000 entries), a 1 ms wait: the
  // other threads must give up at once, each with the same error.
  auto store = conformance::open_store_with("pool_size=1&pool_timeout=1ms&list_page_size=2000",
                                            conformance::last_namespace());
  for (int i = 0; i < 2000; ++i) store->set({"p", std::to_string(i)}, std::string(200, 'x'));
  std::atomic<int> timeouts{0};
  std::atomic<int> wrong{0};
  std::atomic<long long> slowest_failure_ms{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&] {
      for (int round = 0; round < 5; ++round) {
        const auto start = std::chrono::steady_clock::now();
        try {
          std::size_t n = 0;
          for (const auto& entry : store->list_json({"p"})) n += entry.json.size() > 0;
          if (n != 2000) ++wrong;
        } catch (const kvstore::Error& e) {
          const long long ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::steady_clock::now() - start)
                                   .count();
          long long seen = slowest_failure_ms.load();
          while (ms > seen && !slowest_failure_ms.compare_exchange_weak(seen, ms)) {
          }
          if (e.code() == kvstore::ErrorCode::timeout && e.retryable() && e.driver() == driver &&
              std::string(e.message()).find("pool_timeout") != std::string::npos) {
            ++timeouts;
          } else {
            ++wrong;
            UNSCOPED_INFO(e.what());
          }
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  CHECK(wrong == 0);
  CHECK(timeouts > 0);
  // A waiter gives up after pool_timeout (1 ms); the listing it interrupted
  // may have fetched nothing yet. Generous for sanitizer builds.
  CHECK(slowest_failure_ms < 2000);
  store->set({"after"}, 1);  // the store stays usable
  CHECK(store->get({"after"}) == kvstore::Value(1));
}
