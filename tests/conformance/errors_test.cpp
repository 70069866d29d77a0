// Conformance: errors carry their properties; a store stays usable after them.
#include <catch2/catch.hpp>

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
