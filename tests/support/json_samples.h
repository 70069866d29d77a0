// JSON values that every store must give back exactly: the conformance
// suite's round-trip case and the JSON reader's differential test use the
// same list.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <kvstore/value.h>

namespace json_samples {

// Nested arrays `depth` levels deep around a 0.
inline kvstore::Value nested(std::size_t depth) {
  kvstore::Value root = 0;
  kvstore::Value* innermost = &root;
  for (std::size_t i = 0; i < depth; ++i) {
    *innermost = kvstore::Value::array();
    innermost->push_back(0);
    innermost = &innermost->back();
  }
  return root;
}

// Every kind of JSON value, with the edge cases of numbers, strings and depth.
inline std::vector<kvstore::Value> values() {
  using kvstore::Value;
  std::string all_controls;
  for (int c = 0; c < 0x20; ++c) all_controls += static_cast<char>(c);
  return {
      nullptr,
      false,
      true,
      0,
      -1,
      "",
      Value::array(),
      Value::object(),
      0.1,
      -0.5,
      1e308,
      5e-324,
      1.0,
      3.141592653589793,
      std::numeric_limits<std::int64_t>::max(),
      std::numeric_limits<std::int64_t>::min(),
      std::numeric_limits<std::uint64_t>::max(),
      9007199254740993LL,
      std::string("nul\0inside", 10),
      all_controls,
      "\"quotes\" and \\backslashes\\",
      "emoji 😀, CJK 日本語, RTL עברית, combining é",
      "\u2028\u2029",
      "</script>",
      Value::parse(
          R"({"@context":"https://www.w3.org/ns/activitystreams","id":"x","n":[1,2,{"a":null}]})"),
      Value::array({nullptr, false, 0, "", Value::array(), Value::object()}),
      nested(64),
      nested(kvstore::kMaxValueDepth - 1)};
}

}  // namespace json_samples
