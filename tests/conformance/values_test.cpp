// Conformance: values — every JSON value comes back exactly; limits hold.
#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>

#include "fixture.h"
#include "json_samples.h"
#include "support.h"

using kvstore::ErrorCode;
using kvstore::Value;

using json_samples::nested;

TEST_CASE("values: every kind of JSON value round-trips", "[values]") {
  auto store = conformance::open_store();
  const std::vector<Value> values = json_samples::values();
  for (std::size_t i = 0; i < values.size(); ++i) {
    INFO("value #" << i << ": " << values[i].dump().substr(0, 200));
    store->set({"v", std::to_string(i)}, values[i]);
    std::optional<Value> back = store->get({"v", std::to_string(i)});
    REQUIRE(back.has_value());
    CHECK(*back == values[i]);
    CHECK(kvstore::json_equal(*back, values[i]));
    // Same kind: nlohmann's signed/unsigned integer split is not part of JSON.
    CHECK(back->is_number_integer() == values[i].is_number_integer());
    CHECK(back->type_name() == std::string(values[i].type_name()));
  }
  // Exact integers survive: no detour through a double.
  CHECK(store->get({"v", "14"})->get<std::int64_t>() == std::numeric_limits<std::int64_t>::max());
  CHECK(store->get({"v", "16"})->get<std::uint64_t>() == std::numeric_limits<std::uint64_t>::max());
  CHECK(store->get({"v", "17"})->get<std::int64_t>() == 9007199254740993LL);
  CHECK(store->get({"v", "18"})->get<std::string>().size() == 10);
}

TEST_CASE("values: null is a value distinct from absent", "[values]") {
  auto store = conformance::open_store();
  CHECK_FALSE(store->get({"n"}).has_value());
  store->set({"n"}, nullptr);
  std::optional<Value> v = store->get({"n"});
  REQUIRE(v.has_value());
  CHECK(v->is_null());
  CHECK(store->get_json({"n"}) == std::optional<std::string>("null"));
  store->remove({"n"});
  CHECK_FALSE(store->get({"n"}).has_value());
  store->remove({"n"});  // removing an absent key is fine
}

TEST_CASE("values: overwrite replaces and large values round-trip", "[values]") {
  auto store = conformance::open_store();
  store->set({"k"}, 1);
  store->set({"k"}, "two");
  CHECK(store->get({"k"}) == Value("two"));
  const std::string big(3 * 1024 * 1024, 'b');
  store->set({"big"}, big);
  CHECK(store->get({"big"}) == Value(big));
  store->set({"big"}, "small");
  CHECK(store->get({"big"}) == Value("small"));
}

TEST_CASE("values: invalid or oversized values are rejected and change nothing",
          "[values][errors]") {
  auto store = conformance::open_store();
  store->set({"k"}, "original");
  support::require_error(ErrorCode::invalid_argument,
                         [&] { store->set({"k"}, std::string("bad \xff utf-8")); });
  support::require_error(ErrorCode::invalid_argument,
                         [&] { store->set({"k"}, std::numeric_limits<double>::quiet_NaN()); });
  support::require_error(ErrorCode::invalid_argument,
                         [&] { store->set({"k"}, std::numeric_limits<double>::infinity()); });
  support::require_error(ErrorCode::invalid_argument,
                         [&] { store->set({"k"}, nested(kvstore::kMaxValueDepth + 1)); });
  support::require_error(ErrorCode::invalid_argument, [&] { store->set({"k"}, nested(100000)); });
  support::require_error(ErrorCode::invalid_argument, [&] {
    store->set({"k"}, Value::binary({1, 2, 3}));
  });
  support::require_error(ErrorCode::invalid_argument,
                         [&] { store->cas({"k"}, Value("original"), std::string("\xc0\xaf")); });
  CHECK(store->get({"k"}) == Value("original"));

  REQUIRE(store->capabilities().max_value_bytes == kvstore::kDefaultMaxValueBytes);
  // The default limit: 25 MiB of serialized JSON (the quotes count).
  support::require_error(ErrorCode::limit_exceeded, [&] {
    store->set({"k"}, std::string(kvstore::kDefaultMaxValueBytes - 1, 'x'));
  });
  support::require_error(ErrorCode::limit_exceeded, [&] {
    store->set_json({"k"}, std::string(kvstore::kDefaultMaxValueBytes + 1, ' '));
  });
  store = conformance::open_store_with("max_value_size=1KiB");
  REQUIRE(store->capabilities().max_value_bytes == 1024);
  store->set({"k"}, std::string(1022, 'x'));  // exactly 1024 bytes with quotes
  support::require_error(ErrorCode::limit_exceeded,
                         [&] { store->set({"k"}, std::string(1023, 'x')); });
  support::require_error(ErrorCode::limit_exceeded,
                         [&] { store->cas({"k"}, std::nullopt, std::string(2000, 'x')); });
  CHECK(store->get({"k"}) == Value(std::string(1022, 'x')));
}

TEST_CASE("values: the zero-parse path keeps JSON text as written", "[values][json]") {
  auto store = conformance::open_store();
  const std::string text = "{ \"b\" : [1, 2.50, \"\\u00e9\"],\n  \"a\": null }";
  store->set_json({"doc"}, text);
  CHECK(store->get_json({"doc"}) == std::optional<std::string>(text));
  CHECK(store->get({"doc"}) == Value::parse(text));

  store->set({"canon"}, Value::parse(R"({"z":1,"a":[true,{"y":2,"x":1}]})"));
  CHECK(store->get_json({"canon"}) ==
        std::optional<std::string>(R"({"a":[true,{"x":1,"y":2}],"z":1})"));
  CHECK_FALSE(store->get_json({"absent"}).has_value());

  const std::vector<std::string> invalid = {"",
                                            "   ",
                                            "{",
                                            "[1,]",
                                            "nul",
                                            "tru",
                                            "01",
                                            "1 2",
                                            "{\"a\":1}}",
                                            "'single'",
                                            "\"unterminated",
                                            "\"bad \xff\"",
                                            "\"\\ud800\"",
                                            "\"\\udc00x\"",
                                            "\"\\ud800\\u0041\"",
                                            "NaN",
                                            "[1] x",
                                            "\"tab\there\"",
                                            std::string(kvstore::kMaxValueDepth + 1, '[') +
                                                std::string(kvstore::kMaxValueDepth + 1, ']')};
  for (const std::string& bad : invalid) {
    INFO("text: " << bad.substr(0, 40));
    support::require_error(ErrorCode::invalid_argument, [&] { store->set_json({"doc"}, bad); });
  }
  CHECK(store->get_json({"doc"}) == std::optional<std::string>(text));

  // Valid texts some fast parsers refuse, and the nesting limit exactly.
  for (const std::string& valid :
       {std::string("123456789012345678901234567890"), std::string("[1e300, -1e-400, -0, 1E+2]"),
        std::string("\"\\ud83d\\ude00 \\u0000\""),
        std::string(kvstore::kMaxValueDepth, '[') + std::string(kvstore::kMaxValueDepth, ']')}) {
    INFO("text: " << valid.substr(0, 40));
    store->set_json({"valid"}, valid);
    CHECK(store->get_json({"valid"}) == std::optional<std::string>(valid));
    CHECK(store->get({"valid"}).has_value());
  }
  store->set_json({"l", "1"}, " 1 ");
  store->set_json({"l", "2"}, "\"two\"");
  std::vector<std::string> texts;
  for (const kvstore::JsonEntry& e : store->list_json({"l"})) texts.push_back(e.json);
  CHECK(texts == std::vector<std::string>{" 1 ", "\"two\""});
}

TEST_CASE("values: get_as converts or says why not", "[values]") {
  auto store = conformance::open_store();
  store->set({"n"}, 42);
  CHECK(store->get_as<int>({"n"}) == std::optional<int>(42));
  CHECK_FALSE(store->get_as<int>({"absent"}).has_value());
  support::require_error(ErrorCode::invalid_argument, [&] { store->get_as<std::string>({"n"}); });
}

TEST_CASE("values: set_json rejects a byte-order mark, which is not JSON white space",
          "[values][json][errors]") {
  auto store = conformance::open_store();
  for (const char* text : {"\xEF\xBB\xBF"
                           "1",
                           "\xEF\xBB\xBF{\"a\":1}",
                           " \xEF\xBB\xBF"
                           "1",
                           "1\xEF\xBB\xBF", "\xEF\xBB\xBF"}) {
    INFO(text);
    support::require_error(ErrorCode::invalid_argument, [&] { store->set_json({"bom"}, text); });
  }
  CHECK_FALSE(store->get_json({"bom"}).has_value());
  // A BOM inside a string is an ordinary character.
  store->set_json({"bom"}, "\"\xEF\xBB\xBF\"");
  CHECK(store->get_json({"bom"}) == std::optional<std::string>("\"\xEF\xBB\xBF\""));
}
