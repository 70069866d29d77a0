// The simdjson reader builds exactly the Value nlohmann::json::parse builds.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <iterator>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <kvstore/kvstore.h>

#include "json_diff.h"
#include "json_samples.h"

using kvstore::Value;

namespace {

// Random JSON text of every kind, written by hand rather than by dump() so
// that it has the spellings stored text written through set_json may have:
// white space, escapes, exponents, duplicate members, edge numbers.
class Generator {
 public:
  explicit Generator(std::uint64_t seed) : rng_(seed) {}

  std::string document() {
    std::string out;
    space(out);
    value(out, 0, pick(4) == 0 ? kvstore::kMaxValueDepth + 4 : 12);
    space(out);
    return out;
  }

 private:
  std::size_t pick(std::size_t n) {
    return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng_);
  }

  void space(std::string& out) {
    static const char* const kSpaces[] = {"", "", "", " ", "\n", "\t", "\r\n  "};
    out += kSpaces[pick(7)];
  }

  void value(std::string& out, std::size_t depth, std::size_t max_depth) {
    std::size_t kind = pick(depth + 1 >= max_depth ? 6 : 9);
    // Now and then, a long chain of single arrays (deep nesting near the limit).
    if (depth == 0 && max_depth > 100) kind = 9;
    switch (kind) {
      case 0:
        out += pick(3) == 0 ? "null" : (pick(2) ? "true" : "false");
        return;
      case 1:
        integer(out);
        return;
      case 2:
        floating(out);
        return;
      case 3:
        edge_number(out);
        return;
      case 4:
      case 5:
        string(out);
        return;
      case 6:
      case 7: {
        out += '[';
        std::size_t n = pick(6);
        for (std::size_t i = 0; i < n; ++i) {
          if (i) out += ',';
          space(out);
          value(out, depth + 1, max_depth);
          space(out);
        }
        out += ']';
        return;
      }
      case 8: {
        out += '{';
        std::size_t n = pick(6);
        std::vector<std::string> keys;
        for (std::size_t i = 0; i < n; ++i) {
          if (i) out += ',';
          space(out);
          if (!keys.empty() && pick(4) == 0) {
            out += keys[pick(keys.size())];  // a duplicate member
          } else {
            std::string key;
            string(key);
            keys.push_back(key);
            out += key;
          }
          space(out);
          out += ':';
          space(out);
          value(out, depth + 1, max_depth);
        }
        out += '}';
        return;
      }
      default: {
        std::size_t levels = max_depth - 8 + pick(12);  // around the depth limit
        out += std::string(levels, '[');
        value(out, max_depth, max_depth);
        out += std::string(levels, ']');
        return;
      }
    }
  }

  void integer(std::string& out) {
    switch (pick(4)) {
      case 0:
        out += std::to_string(static_cast<std::int64_t>(pick(2000)) - 1000);
        return;
      case 1:
        out += std::to_string(static_cast<std::int64_t>(rng_()));
        return;
      case 2:
        out += std::to_string(rng_());
        return;
      default: {
        std::size_t digits = 1 + pick(30);
        if (pick(2)) out += '-';
        out += static_cast<char>('1' + pick(9));
        for (std::size_t i = 1; i < digits; ++i) out += static_cast<char>('0' + pick(10));
      }
    }
  }

  void floating(std::string& out) {
    std::uniform_real_distribution<double> unit(-1.0, 1.0);
    double d = unit(rng_) * std::pow(10.0, static_cast<int>(pick(600)) - 300);
    char buf[64];
    static const char* const kFormats[] = {"%.17g", "%.3g", "%e", "%.1f", "%.25e", "%a"};
    std::size_t f = pick(5);  // %a is not JSON; left out
    std::snprintf(buf, sizeof buf, kFormats[f], d);
    std::string s = buf;
    if (s.find_first_of(".eEn") == std::string::npos) s += ".0";  // keep it a float
    if (s.find("inf") != std::string::npos || s.find("nan") != std::string::npos) s = "0.5";
    out += s;
  }

  void edge_number(std::string& out) {
    static const char* const kEdges[] = {
        "0",
        "-0",
        "-0.0",
        "0.0",
        "0e0",
        "-0E-0",
        "1e308",
        "1.7976931348623157e308",
        "1.7976931348623159e308",
        "5e-324",
        "2.4703282292062328e-324",
        "2e-324",
        "1e-400",
        "4.9406564584124654e-324",
        "2.2250738585072014e-308",
        "9007199254740993",
        "9007199254740992.0",
        "-9007199254740993",
        "9223372036854775807",
        "9223372036854775808",
        "-9223372036854775808",
        "-9223372036854775809",
        "18446744073709551615",
        "18446744073709551616",
        "-18446744073709551616",
        "100000000000000000000000000000000000000000000000000000000000000000000000",
        "1e400",
        "-1e400",
        "1E+2",
        "1e-2",
        "0.1",
        "0.30000000000000004",
        "123456789012345678901234567890.5e-10",
        "1.00000000000000011102230246251565404236316680908203125",
        "7.2057594037927933e16",
        "0.000000000000000000000000000000000000000000001e-300"};
    out += kEdges[pick(std::size(kEdges))];
  }

  void string(std::string& out) {
    static const char* const kPieces[] = {"a",
                                          "Z",
                                          " ",
                                          "\\\"",
                                          "\\\\",
                                          "\\/",
                                          "\\b",
                                          "\\f",
                                          "\\n",
                                          "\\r",
                                          "\\t",
                                          "\\u0000",
                                          "\\u001f",
                                          "\\u00e9",
                                          "\\u2028",
                                          "\\uD83D\\uDE00",
                                          "\\ud834\\udd1e",
                                          "\\uFFFF",
                                          "é",
                                          "日本",
                                          "😀",
                                          "\xF4\x8F\xBF\xBF",
                                          "-0",
                                          "-0 ",
                                          "2024-01-05",
                                          "https://example.com/x",
                                          "\\u0041",
                                          "\x7f"};
    out += '"';
    std::size_t n = pick(10);
    for (std::size_t i = 0; i < n; ++i) out += kPieces[pick(std::size(kPieces))];
    if (pick(40) == 0) out += "\\ud800";  // a lone surrogate: nlohmann refuses it
    if (pick(40) == 0) out += "\xC3";     // invalid UTF-8
    out += '"';
  }

  std::mt19937_64 rng_;
};

// A few bytes of damage, so that refused text is compared too.
std::string damaged(std::string text, std::mt19937_64& rng) {
  if (text.empty()) return "x";
  std::size_t at = rng() % text.size();
  switch (rng() % 3) {
    case 0:
      return text.substr(0, at);
    case 1:
      text[at] = static_cast<char>(rng());
      return text;
    default:
      text.insert(at, 1, "{}[],:\"\\0-e."[rng() % 12]);
      return text;
  }
}

}  // namespace

TEST_CASE("json reader: a generated corpus reads as nlohmann reads it", "[value][json_reader]") {
  Generator generator(20261201);
  std::mt19937_64 rng(7);
  constexpr int kDocuments = 6000;
  int fast = 0;
  int refused = 0;
  for (int i = 0; i < kDocuments; ++i) {
    std::string text = generator.document();
    if (i % 5 == 4) text = damaged(std::move(text), rng);
    json_diff::Outcome outcome = json_diff::compare(text);
    INFO("document #" << i << ": " << text.substr(0, 300));
    REQUIRE(outcome.problem == "");
    fast += outcome.fast ? 1 : 0;
    refused += outcome.accepted ? 0 : 1;
  }
  // Both outcomes occur in the corpus, and most valid documents take the fast path.
  CHECK(refused > kDocuments / 10);
  CHECK(fast > (kDocuments - refused) / 2);
}

TEST_CASE("json reader: edge numbers keep nlohmann's value and type", "[value][json_reader]") {
  const std::vector<std::string> texts = {"0",
                                          "-0",
                                          "[-0]",
                                          "[-0,0]",
                                          "{\"a\":-0}",
                                          "-0.0",
                                          "1e308",
                                          "5e-324",
                                          "9007199254740993",
                                          "9223372036854775807",
                                          "9223372036854775808",
                                          "-9223372036854775808",
                                          "-9223372036854775809",
                                          "18446744073709551615",
                                          "18446744073709551616",
                                          "1e400",
                                          "123456789012345678901234567890",
                                          "[1.0,1,-1,1E2]"};
  for (const std::string& text : texts) {
    INFO(text);
    json_diff::Outcome outcome = json_diff::compare(text);
    CHECK(outcome.problem == "");
  }
  // The fast path decides plain 64-bit integers; "-0" and big integers fall back.
  Value v;
  REQUIRE(kvstore::detail::read_json_fast("18446744073709551615", v));
  CHECK(v.is_number_unsigned());
  REQUIRE(kvstore::detail::read_json_fast("[0,1]", v));
  CHECK(v[0].is_number_unsigned());
  REQUIRE(kvstore::detail::read_json_fast("-9223372036854775808", v));
  CHECK(v.is_number_integer());
  CHECK_FALSE(kvstore::detail::read_json_fast("[-0]", v));
  CHECK(kvstore::parse_stored_json("[-0]", "t")[0].is_number_integer());
  CHECK_FALSE(kvstore::detail::read_json_fast("18446744073709551616", v));
  CHECK(kvstore::parse_stored_json("18446744073709551616", "t").is_number_float());
  // Dates hold "-0" but no negative zero: they stay on the fast path.
  CHECK(kvstore::detail::read_json_fast(R"({"published":"2024-01-05T00:00:00Z","n":0})", v));
}

TEST_CASE("json reader: duplicates, U+0000 and nesting as nlohmann has them",
          "[value][json_reader]") {
  Value v;
  REQUIRE(kvstore::detail::read_json_fast(R"({"a":1,"b":2,"a":{"c":3}})", v));
  CHECK(v == Value::parse(R"({"a":1,"b":2,"a":{"c":3}})"));
  CHECK(v["a"]["c"] == 3);
  REQUIRE(kvstore::detail::read_json_fast(R"("nul\u0000inside")", v));
  CHECK(v.get<std::string>() == std::string("nul\0inside", 10));
  std::string deepest =
      std::string(kvstore::kMaxValueDepth, '[') + std::string(kvstore::kMaxValueDepth, ']');
  CHECK(json_diff::compare(deepest).problem == "");
  CHECK(kvstore::detail::read_json_fast(deepest, v));
  // Stored text deeper than the limit (not writable today) still reads, through nlohmann.
  std::string deeper = "[" + deepest + "]";
  CHECK_FALSE(kvstore::detail::read_json_fast(deeper, v));
  CHECK(json_diff::compare(deeper).problem == "");
  CHECK(kvstore::parse_stored_json(deeper, "t") == Value::parse(deeper));
}

TEST_CASE("json reader: bad stored text is corrupt, worded by nlohmann", "[value][json_reader]") {
  const std::vector<std::string> texts = {"",   "[1,",   "{\"a\"}", "\"\\ud800\"",
                                          "01", "1e400", "\"\xC3\""};
  for (const std::string& text : texts) {
    INFO(text);
    std::string expected;
    try {
      Value ignored = Value::parse(text);
    } catch (const Value::exception& e) {
      expected = std::string("stored value is not valid JSON: ") + e.what();
    }
    REQUIRE(expected != "");
    try {
      Value ignored = kvstore::parse_stored_json(text, "memory");
      FAIL("parse_stored_json accepted it");
    } catch (const kvstore::Error& e) {
      CHECK(e.code() == kvstore::ErrorCode::corrupt);
      CHECK(e.message() == expected);
      CHECK(e.driver() == "memory");
    }
  }
}

TEST_CASE("json reader: the conformance values read back exactly", "[value][json_reader]") {
  const std::vector<Value> values = json_samples::values();
  for (const Value& value : values) {
    for (const std::string& text : {kvstore::to_json_text(value), value.dump(2)}) {
      INFO(text.substr(0, 200));
      json_diff::Outcome outcome = json_diff::compare(text);
      CHECK(outcome.accepted);
      CHECK(outcome.fast);
      CHECK(outcome.problem == "");
    }
  }
}
