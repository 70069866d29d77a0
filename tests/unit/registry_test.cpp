#include <catch2/catch.hpp>

#include <algorithm>

#include <kvstore/driver.h>
#include <kvstore/kvstore.h>
#include <kvstore/memory.h>

namespace {
// A custom driver: delegates to a memory store, remembering its URL's parameter.
std::string seen_label;
}  // namespace

TEST_CASE("a custom driver is opened through the same registry", "[registry]") {
  kvstore::register_driver("custom", [](kvstore::Url& url) {
    seen_label = url.take("label").value_or("");
    return kvstore::memory::open(url);
  });
  auto schemes = kvstore::registered_schemes();
  CHECK(std::find(schemes.begin(), schemes.end(), "custom") != schemes.end());
  auto store = kvstore::open("custom:?label=hello&list_page_size=3");
  CHECK(seen_label == "hello");
  CHECK(store->capabilities().list_page_size == 3);
  store->set({"k"}, 1);
  CHECK(store->get({"k"}) == kvstore::Value(1));
  CHECK_THROWS_AS(kvstore::register_driver(
                      "custom", [](kvstore::Url& url) { return kvstore::memory::open(url); }),
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

namespace {
bool registered(const std::string& scheme) {
  const std::vector<std::string> schemes = kvstore::registered_schemes();
  return std::find(schemes.begin(), schemes.end(), scheme) != schemes.end();
}
}  // namespace

TEST_CASE("open never echoes a password, whatever the URL's shape", "[registry]") {
  for (const char* url :
       {"redis:/kvstore:SECRET@127.0.0.1:1/0", "mysql:/kvstore:SECRET@127.0.0.1:1/db",
        "postgres:/kvstore:SECRET@127.0.0.1:1/db", "nosuch:kvstore:SECRET@host/",
        "redis://SECRET@127.0.0.1:1/0", "redis://kvstore%3ASECRET@127.0.0.1:1/0",
        "mysql://kvstore:SE/CRET@127.0.0.1:1/db"}) {
    INFO(url);
    try {
      kvstore::open(url);
      FAIL("accepted");
    } catch (const kvstore::Error& e) {
      CHECK(std::string(e.what()).find("CRET") == std::string::npos);
    }
  }
}

TEST_CASE("every duration parameter of every driver has a range checked at open", "[registry]") {
  // Port 1 on loopback refuses connections: a parameter accepted by mistake
  // would surface as unavailable, not invalid_argument.
  struct Param {
    const char* scheme;
    const char* url;
    std::vector<const char*> names;
  };
  const std::vector<Param> params = {
      {"memory", "memory:", {"request_timeout"}},
      {"redis", "redis://127.0.0.1:1/0", {"connect_timeout", "command_timeout", "request_timeout"}},
      {"postgres",
       "postgres://u@127.0.0.1:1/db",
       {"connect_timeout", "command_timeout", "statement_timeout", "pool_timeout", "sweep_interval",
        "request_timeout"}},
      {"mysql",
       "mysql://u:p@127.0.0.1:1/db",
       {"pool_timeout", "connect_timeout", "io_timeout", "lock_timeout", "sweep_interval",
        "request_timeout"}},
      {"sqlite",
       "sqlite::memory:",
       {"busy_timeout", "pool_timeout", "sweep_interval", "request_timeout"}},
  };
  for (const Param& p : params) {
    if (!registered(p.scheme)) continue;
    for (const char* name : p.names) {
      for (const char* value : {"99999999999h", "2h", "-1s", "1y"}) {
        std::string url = std::string(p.url) + "?" + name + "=" + value;
        INFO(url);
        try {
          kvstore::open(url);
          FAIL("accepted");
        } catch (const kvstore::Error& e) {
          CHECK(e.code() == kvstore::ErrorCode::invalid_argument);
          CHECK(std::string(e.what()).find(name) != std::string::npos);
          CHECK(e.driver() == (std::string(p.scheme) == "postgres" ? "postgres" : p.scheme));
        }
      }
    }
  }
}
