// Differential check of kvstore's simdjson reader against nlohmann::json::parse,
// shared by the unit test and the libFuzzer target.
#pragma once

#include <string>
#include <string_view>

#include <kvstore/error.h>
#include <kvstore/value.h>

#include "json_reader.h"

namespace json_diff {

using kvstore::Value;

// True if `a` and `b` have the same type everywhere: nlohmann's operator==
// calls 1u and 1 equal, but the reader promises nlohmann's exact types.
inline bool same_types(const Value& a, const Value& b) {
  if (a.type() != b.type()) return false;
  if (a.is_array()) {
    for (std::size_t i = 0; i < a.size(); ++i) {
      if (!same_types(a[i], b[i])) return false;
    }
  } else if (a.is_object()) {
    for (auto it = a.begin(), other = b.begin(); it != a.end(); ++it, ++other) {
      if (it.key() != other.key() || !same_types(it.value(), other.value())) return false;
    }
  }
  return true;
}

struct Outcome {
  bool fast = false;      // the simdjson path decided
  bool accepted = false;  // nlohmann accepts the text
  std::string problem;    // empty: both paths agree
};

inline std::string describe(const Value& expected, const Value& got) {
  return "nlohmann gives " + expected.dump() + ", the reader " + got.dump();
}

// Runs `text` through read_json_fast, parse_stored_json and nlohmann::json::parse.
inline Outcome compare(std::string_view text) {
  Outcome outcome;
  Value expected;
  try {
    expected = Value::parse(text);
    outcome.accepted = true;
  } catch (const Value::exception&) {
  }
  Value fast;
  outcome.fast = kvstore::detail::read_json_fast(text, fast);
  if (!outcome.accepted) {
    if (outcome.fast) outcome.problem = "the reader accepts text nlohmann refuses: " + fast.dump();
    try {
      Value ignored = kvstore::parse_stored_json(text, "test");
      outcome.problem = "parse_stored_json accepts text nlohmann refuses";
    } catch (const kvstore::Error& e) {
      if (e.code() != kvstore::ErrorCode::corrupt) outcome.problem = "error is not corrupt";
    }
    return outcome;
  }
  Value stored = kvstore::parse_stored_json(text, "test");
  for (const Value* got : {&stored, outcome.fast ? &fast : nullptr}) {
    if (got == nullptr) continue;
    if (!(*got == expected) || !same_types(*got, expected) || got->dump() != expected.dump()) {
      outcome.problem = describe(expected, *got);
      return outcome;
    }
  }
  return outcome;
}

}  // namespace json_diff
