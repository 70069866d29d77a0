// Conformance: errors carry their properties; a store stays usable after them.
#include <catch2/catch.hpp>

#include <functional>
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
      {"list prefix", [&] { store->list(too_long); }},
      {"list_json prefix", [&] { store->list_json(too_long); }},
      {"list bad prefix", [&] { store->list(bad_utf8); }},
      {"list start_after",
       [&] {
         store->list({}, {too_long, std::nullopt});
       }},
      {"list_json start_after",
       [&] {
         store->list_json({}, {bad_utf8, std::nullopt});
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
  kvstore::ListRange range = store->list({"d"});
  kvstore::JsonListRange unstarted = store->list_json({"d"});
  auto it = range.begin();
  REQUIRE(it != range.end());
  CHECK(it->key == kvstore::KvKey{"d", "0"});
  store.reset();
  ++it;  // the second entry is in the page already fetched
  CHECK(it->key == kvstore::KvKey{"d", "1"});
  for (auto step : std::vector<std::function<void()>>{[&] { ++it; }, [&] { unstarted.begin(); }}) {
    try {
      step();
      FAIL("a destroyed store's listing went on");
    } catch (const kvstore::Error& e) {
      CHECK(e.code() == kvstore::ErrorCode::unavailable);
      CHECK(e.driver() == driver);
      CHECK_FALSE(e.retryable());
    }
  }
}
