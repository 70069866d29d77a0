#include <kvstore/value.h>

#include <cmath>
#include <cstdint>
#include <limits>

#include <kvstore/error.h>
#include <simdjson.h>

#include "json_reader.h"

namespace kvstore {

namespace {

using Type = Value::value_t;

bool is_integer(Type t) { return t == Type::number_integer || t == Type::number_unsigned; }

// Compares an integer held by `integer` with a double exactly.
bool integer_equals_double(const Value& integer, double d) {
  if (!std::isfinite(d) || d != std::trunc(d)) return false;
  // 2^63 and 2^64 are exact doubles; values in range convert without loss.
  if (integer.type() == Type::number_unsigned) {
    if (d < 0 || d >= 18446744073709551616.0) return false;
    return static_cast<std::uint64_t>(d) == integer.get<std::uint64_t>();
  }
  if (d < -9223372036854775808.0 || d >= 9223372036854775808.0) return false;
  return static_cast<std::int64_t>(d) == integer.get<std::int64_t>();
}

bool numbers_equal(const Value& a, const Value& b) {
  Type ta = a.type();
  Type tb = b.type();
  if (is_integer(ta) && is_integer(tb)) {
    if (ta == tb)
      return ta == Type::number_unsigned ? a.get<std::uint64_t>() == b.get<std::uint64_t>()
                                         : a.get<std::int64_t>() == b.get<std::int64_t>();
    const Value& signed_one = ta == Type::number_integer ? a : b;
    const Value& unsigned_one = ta == Type::number_integer ? b : a;
    std::int64_t s = signed_one.get<std::int64_t>();
    return s >= 0 && static_cast<std::uint64_t>(s) == unsigned_one.get<std::uint64_t>();
  }
  if (ta == Type::number_float && tb == Type::number_float) {
    return a.get<double>() == b.get<double>();
  }
  return ta == Type::number_float ? integer_equals_double(b, a.get<double>())
                                  : integer_equals_double(a, b.get<double>());
}

// Walks `value` up to kMaxValueDepth levels, rejecting what JSON text cannot hold.
void check_value(const Value& value, std::size_t depth) {
  switch (value.type()) {
    case Type::array:
    case Type::object:
      if (depth >= kMaxValueDepth) {
        throw Error(ErrorCode::invalid_argument,
                    "value is nested deeper than " + std::to_string(kMaxValueDepth) + " levels");
      }
      for (const Value& child : value) check_value(child, depth + 1);
      return;
    case Type::number_float:
      if (!std::isfinite(value.get<double>())) {
        throw Error(ErrorCode::invalid_argument, "value holds a NaN or infinite number");
      }
      return;
    case Type::binary:
      throw Error(ErrorCode::invalid_argument, "value holds binary data, which JSON cannot");
    case Type::discarded:
      throw Error(ErrorCode::invalid_argument, "value is a discarded JSON value");
    default:
      return;
  }
}

// Accepts any JSON, counting nesting depth and stopping past the limit.
class DepthCheckingSax {
 public:
  bool null() { return true; }
  bool boolean(bool) { return true; }
  bool number_integer(Value::number_integer_t) { return true; }
  bool number_unsigned(Value::number_unsigned_t) { return true; }
  bool number_float(Value::number_float_t, const std::string&) { return true; }
  bool string(std::string&) { return true; }
  bool binary(Value::binary_t&) { return true; }
  bool start_object(std::size_t) { return enter(); }
  bool end_object() { return leave(); }
  bool start_array(std::size_t) { return enter(); }
  bool end_array() { return leave(); }
  bool key(std::string&) { return true; }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& e) {
    error = e.what();
    return false;
  }

  std::string error;
  bool too_deep = false;

 private:
  bool enter() {
    if (++depth_ > kMaxValueDepth) {
      too_deep = true;
      return false;
    }
    return true;
  }
  bool leave() {
    --depth_;
    return true;
  }
  std::size_t depth_ = 0;
};

// simdjson validates JSON text and UTF-8 an order of magnitude faster than
// nlohmann's lexer, which matters on the zero-parse write path. It refuses a
// few valid texts (integers beyond 64 bits, exponents beyond a double), so a
// "no" here is only a cue to ask nlohmann; a "yes" is final, and everything it
// accepts nlohmann parses too (it rejects lone surrogates and invalid UTF-8).
bool fast_accept(std::string_view text) {
  if (text.size() > detail::kReusedParserMaxBytes) {
    simdjson::dom::parser parser;
    if (parser.allocate(text.size(), kMaxValueDepth) != simdjson::SUCCESS) return false;
    return parser.parse(text.data(), text.size()).error() == simdjson::SUCCESS;
  }
  return detail::thread_parser().parse(text.data(), text.size()).error() == simdjson::SUCCESS;
}

[[noreturn]] void throw_too_large(std::size_t size, std::size_t max_bytes) {
  throw Error(ErrorCode::limit_exceeded, "value is " + std::to_string(size) +
                                             " bytes as JSON; the maximum is " +
                                             std::to_string(max_bytes));
}

}  // namespace

bool json_equal(const Value& a, const Value& b) {
  if (a.is_number() && b.is_number()) return numbers_equal(a, b);
  if (a.type() != b.type()) return false;
  switch (a.type()) {
    case Type::array: {
      if (a.size() != b.size()) return false;
      for (std::size_t i = 0; i < a.size(); ++i) {
        if (!json_equal(a[i], b[i])) return false;
      }
      return true;
    }
    case Type::object: {
      if (a.size() != b.size()) return false;
      for (auto it = a.begin(); it != a.end(); ++it) {
        auto other = b.find(it.key());
        if (other == b.end() || !json_equal(it.value(), *other)) return false;
      }
      return true;
    }
    default:
      return a == b;
  }
}

std::string to_json_text(const Value& value, std::size_t max_bytes) {
  check_value(value, 0);
  std::string text;
  try {
    text = value.dump();
  } catch (const nlohmann::json::type_error& e) {
    throw Error(ErrorCode::invalid_argument,
                std::string("value is not valid JSON text: ") + e.what());
  }
  if (text.size() > max_bytes) throw_too_large(text.size(), max_bytes);
  return text;
}

void validate_json_text(std::string_view text, std::size_t max_bytes) {
  if (text.size() > max_bytes) throw_too_large(text.size(), max_bytes);
  // Both parsers skip a UTF-8 byte-order mark, but RFC 8259 does not allow
  // one and get_json() would hand it back to the caller.
  if (text.substr(0, 3) == "\xEF\xBB\xBF") {
    throw Error(ErrorCode::invalid_argument,
                "not a valid JSON text: it starts with a byte-order mark (U+FEFF)");
  }
  if (fast_accept(text)) return;
  DepthCheckingSax sax;
  bool ok = Value::sax_parse(text.begin(), text.end(), &sax);
  if (sax.too_deep) {
    throw Error(ErrorCode::invalid_argument,
                "JSON text is nested deeper than " + std::to_string(kMaxValueDepth) + " levels");
  }
  if (!ok) {
    throw Error(ErrorCode::invalid_argument, "not a valid JSON text: " + sax.error);
  }
}

Value parse_stored_json(std::string_view text, const std::string& driver) {
  // simdjson builds the same Value about three times faster; nlohmann decides
  // whatever it cannot, and words the error for text that is not JSON.
  Value value;
  if (detail::read_json_fast(text, value)) return value;
  try {
    return Value::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw Error(ErrorCode::corrupt, std::string("stored value is not valid JSON: ") + e.what(),
                driver);
  }
}

}  // namespace kvstore
