#include <catch2/catch.hpp>

#include <kvstore/kvstore.h>

using kvstore::Url;

TEST_CASE("Url parses authority and path and query with percent-decoding", "[url]") {
  Url url = Url::parse("postgresql://us%40er:p%3Ass@db.example:5433/my%20db?table=kv&pool_size=4");
  CHECK(url.scheme() == "postgresql");
  CHECK(url.has_authority());
  CHECK(url.user() == "us@er");
  CHECK(url.password() == std::optional<std::string>("p:ss"));
  CHECK(url.host() == "db.example");
  CHECK(url.port() == std::optional<std::uint16_t>(5433));
  CHECK(url.path() == "/my db");
  CHECK(url.take("table") == std::optional<std::string>("kv"));
  CHECK(url.take_int("pool_size", 1, 64) == std::optional<std::int64_t>(4));
  CHECK_FALSE(url.take("table").has_value());
  url.reject_unknown_params("test");
}

TEST_CASE("Url forms without an authority", "[url]") {
  CHECK(Url::parse("memory:").path().empty());
  CHECK(Url::parse("sqlite::memory:").path() == ":memory:");
  CHECK(Url::parse("sqlite:data/kv.db").path() == "data/kv.db");
  Url abs = Url::parse("SQLite:///var/lib/kv.db?busy_timeout=5s");
  CHECK(abs.scheme() == "sqlite");
  CHECK(abs.path() == "/var/lib/kv.db");
  CHECK(abs.take_duration("busy_timeout", std::chrono::milliseconds(0), std::chrono::hours(1)) ==
        std::optional<std::chrono::milliseconds>(5000));
  Url v6 = Url::parse("redis://[::1]:6380/2");
  CHECK(v6.host() == "::1");
  CHECK(v6.port() == std::optional<std::uint16_t>(6380));
}

TEST_CASE("Url rejects malformed input without echoing the password", "[url]") {
  for (const char* bad : {"", "nocolon", ":x", "1abc:", "redis://h:0/", "redis://h:99999/",
                          "redis://h:x/", "redis://[::1/", "memory:#frag", "memory:?a=1&a=2",
                          "redis://u:secret%zz@h/", "memory:?=1"}) {
    INFO(bad);
    try {
      Url::parse(bad);
      FAIL("accepted");
    } catch (const kvstore::Error& e) {
      CHECK(e.code() == kvstore::ErrorCode::invalid_argument);
      CHECK(std::string(e.what()).find("secret") == std::string::npos);
    }
  }
  Url url = Url::parse("redis://alice:s3cret@h:1/0?password=other&x=1");
  CHECK(url.redacted() == "redis://alice:***@h:1/0?password=***&x=1");
}

TEST_CASE("Url durations and sizes and booleans", "[url]") {
  Url url = Url::parse("x:?a=500ms&b=2m&c=1h&d=250us&e=0&f=5&g=64KiB&h=8M&i=yes&j=off&k=12q&l=-1");
  using ms = std::chrono::milliseconds;
  const ms lo(0), hi(std::chrono::hours(1));
  CHECK(url.take_duration("a", lo, hi) == std::optional<ms>(500));
  CHECK(url.take_duration("b", lo, hi) == std::optional<ms>(120000));
  CHECK(url.take_duration("c", lo, hi) == std::optional<ms>(3600000));
  CHECK(url.take_duration("d", lo, hi) == std::optional<ms>(1));
  CHECK(url.take_duration("e", lo, hi) == std::optional<ms>(0));
  CHECK_THROWS_AS(url.take_duration("f", lo, hi), kvstore::Error);  // a unit is required
  CHECK(url.take_size("g") == std::optional<std::size_t>(65536));
  CHECK(url.take_size("h") == std::optional<std::size_t>(8 * 1024 * 1024));
  CHECK(url.take_bool("i") == std::optional<bool>(true));
  CHECK(url.take_bool("j") == std::optional<bool>(false));
  CHECK_THROWS_AS(url.take_size("k"), kvstore::Error);
  CHECK_THROWS_AS(url.take_int("l", 0, 10), kvstore::Error);
  url.reject_unknown_params("test");
  Url extra = Url::parse("x:?known=1&typo=2");
  extra.take("known");
  try {
    extra.reject_unknown_params("test");
    FAIL("accepted");
  } catch (const kvstore::Error& e) {
    CHECK(std::string(e.what()).find("'typo'") != std::string::npos);
  }
}

TEST_CASE("Url durations outside a parameter's range are invalid_argument", "[url]") {
  using ms = std::chrono::milliseconds;
  Url url = Url::parse("x:?a=99999999999h&b=2h&c=0&d=1ms&e=60m&f=9999999999999999999999ms");
  for (const char* name : {"a", "b", "c", "f"}) {
    INFO(name);
    try {
      url.take_duration(name, ms(1), std::chrono::hours(1));
      FAIL("accepted");
    } catch (const kvstore::Error& e) {
      CHECK(e.code() == kvstore::ErrorCode::invalid_argument);
      CHECK(e.message() == "URL parameter '" + std::string(name) +
                               "' must be a duration from 1ms to 1h with a unit, e.g. 500ms, 5s, "
                               "2m, 1h");
    }
  }
  CHECK(url.take_duration("d", ms(1), std::chrono::hours(1)) == std::optional<ms>(1));
  CHECK(url.take_duration("e", ms(1), std::chrono::hours(1)) == std::optional<ms>(3600000));
  CHECK(kvstore::format_duration(ms(1500)) == "1500ms");
  CHECK(kvstore::format_duration(ms(0)) == "0ms");
  CHECK(kvstore::format_duration(ms(120000)) == "2m");
}

TEST_CASE("Url::redacted hides every part that can hold a password", "[url]") {
  struct Case {
    const char* url;
    const char* redacted;
  };
  for (const Case& c : {
           Case{"redis:/kvstore:SECRET@127.0.0.1:6379/0", "redis:/***@127.0.0.1:6379/0"},
           Case{"mysql:/kvstore:SECRET@127.0.0.1/db", "mysql:/***@127.0.0.1/db"},
           Case{"nosuch:kvstore:SECRET@host/x", "nosuch:***@host/x"},
           Case{"redis://SECRET@127.0.0.1/0", "redis://***@127.0.0.1/0"},
           Case{"redis://kvstore%3ASECRET@127.0.0.1/0", "redis://***@127.0.0.1/0"},
           Case{"redis://u:SE/CRET@127.0.0.1/0", nullptr},  // '/' ends the authority
           Case{"redis://u:SECRET@h/0?x=1&secret=SECRET&api_token=SECRET",
                "redis://u:***@h/0?x=1&secret=***&api_token=***"},
           Case{"redis://h/0?upstream=u:SECRET@h2", "redis://h/0?upstream=***"},
           Case{"sqlite:data/kv.db", "sqlite:data/kv.db"},
           Case{"postgres://alice:pw@db/kv?table=t", "postgres://alice:***@db/kv?table=t"},
       }) {
    INFO(c.url);
    try {
      Url url = Url::parse(c.url);
      if (c.redacted != nullptr) CHECK(url.redacted() == c.redacted);
      CHECK(url.redacted().find("SECRET") == std::string::npos);
      CHECK(url.redacted().find("CRET") == std::string::npos);
    } catch (const kvstore::Error& e) {
      CHECK(std::string(e.what()).find("CRET") == std::string::npos);
    }
  }
}
