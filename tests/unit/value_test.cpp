#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>

#include <kvstore/kvstore.h>

using kvstore::json_equal;
using kvstore::Value;

TEST_CASE("json_equal compares numbers by exact value", "[value]") {
  CHECK(json_equal(Value(1), Value(1.0)));
  CHECK(json_equal(Value(1u), Value(1)));
  CHECK(json_equal(Value(0.0), Value(-0.0)));
  CHECK_FALSE(json_equal(Value(1), Value(1.5)));
  CHECK_FALSE(json_equal(Value(-1), Value(std::numeric_limits<std::uint64_t>::max())));
  const std::int64_t big = std::numeric_limits<std::int64_t>::max();
  CHECK_FALSE(json_equal(Value(big), Value(big - 1)));
  CHECK_FALSE(json_equal(Value(big), Value(9223372036854775808.0)));  // 2^63 is past int64
  CHECK(json_equal(Value(std::uint64_t{1} << 63), Value(9223372036854775808.0)));
  CHECK(json_equal(Value(9007199254740992LL), Value(9007199254740992.0)));
  CHECK_FALSE(json_equal(Value(9007199254740993LL), Value(9007199254740992.0)));
}

TEST_CASE("json_equal: member order is irrelevant and array order matters", "[value]") {
  CHECK(json_equal(Value::parse(R"({"a":1,"b":[1,{"c":2.0}]})"), Value::parse(R"({"b":[1,{"c":2}],"a":1})")));
  CHECK_FALSE(json_equal(Value::parse("[1,2]"), Value::parse("[2,1]")));
  CHECK_FALSE(json_equal(Value(nullptr), Value(false)));
  CHECK_FALSE(json_equal(Value(0), Value(false)));
  CHECK_FALSE(json_equal(Value::array(), Value::object()));
  CHECK_FALSE(json_equal(Value::parse(R"({"a":1})"), Value::parse(R"({"a":1,"b":1})")));
  CHECK_FALSE(json_equal(Value::parse(R"({"a":1})"), Value::parse(R"({"b":1})")));
}

TEST_CASE("to_json_text is canonical and checks limits", "[value]") {
  CHECK(kvstore::to_json_text(Value::parse(R"({"b":1,"a":"é"})")) == "{\"a\":\"é\",\"b\":1}");
  CHECK_THROWS_AS(kvstore::to_json_text(Value("12345"), 6), kvstore::Error);
  CHECK(kvstore::to_json_text(Value("1234"), 6) == "\"1234\"");
  kvstore::validate_json_text(" [1, {\"a\": null}] ");
  CHECK_THROWS_AS(kvstore::validate_json_text("[1,"), kvstore::Error);
  CHECK_THROWS_AS(kvstore::validate_json_text("12", 1), kvstore::Error);
}
