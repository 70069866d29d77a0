#include <catch2/catch.hpp>

#include <kvstore/kvstore.h>
#include <kvstore/memory.h>

namespace {
// A custom driver: delegates to a memory store, remembering its URL's parameter.
std::string seen_label;
}  // namespace

TEST_CASE("a custom driver is opened through the same registry", "[registry]") {
  kvstore::register_driver("custom", [](kvstore::Url& url) {
    seen_label = url.take("label").value_or("");
    url.reject_unknown_params("custom");
    return kvstore::memory::create();
  });
  auto schemes = kvstore::registered_schemes();
  CHECK(std::find(schemes.begin(), schemes.end(), "custom") != schemes.end());
  auto store = kvstore::open("custom:?label=hello&list_page_size=3");
  CHECK(seen_label == "hello");
  CHECK(store->capabilities().list_page_size == 3);
  store->set({"k"}, 1);
  CHECK(store->get({"k"}) == kvstore::Value(1));
  CHECK_THROWS_AS(kvstore::register_driver("custom", [](kvstore::Url&) { return kvstore::memory::create(); }),
                  kvstore::Error);
  CHECK_THROWS_AS(kvstore::open("custom:?lable=typo"), kvstore::Error);
  CHECK(kvstore::unregister_driver("custom"));
  CHECK_FALSE(kvstore::unregister_driver("custom"));
}

TEST_CASE("open rejects unknown schemes and parameters clearly", "[registry]") {
  try {
    kvstore::open("nosuch://user:hunter2@host/");
    FAIL("accepted");
  } catch (const kvstore::Error& e) {
    CHECK(e.code() == kvstore::ErrorCode::unsupported);
    std::string what = e.what();
    CHECK(what.find("nosuch") != std::string::npos);
    CHECK(what.find("memory:") != std::string::npos);
    CHECK(what.find("hunter2") == std::string::npos);
  }
  CHECK_THROWS_AS(kvstore::open("memory:?pool=3"), kvstore::Error);
  CHECK_THROWS_AS(kvstore::open("memory:somewhere"), kvstore::Error);
  CHECK_THROWS_AS(kvstore::open("memory:?max_value_size=26MiB"), kvstore::Error);
  auto small = kvstore::open("memory:?max_value_size=1KiB");
  CHECK(small->capabilities().max_value_bytes == 1024);
}
