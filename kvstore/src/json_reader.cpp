#include "json_reader.h"

#include <cstdint>
#include <string>

#include <simdjson.h>

namespace kvstore::detail {

namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

// Copies simdjson's DOM into nlohmann's, matching nlohmann's own parser: its
// lexer makes every non-negative integer number_unsigned and every negative
// one number_integer, and its DOM builder assigns object members through
// operator[], so a later duplicate replaces an earlier one.
class Builder {
 public:
  // simdjson reads "-0" as the integer 0, where nlohmann keeps a signed
  // integer; a zero therefore sends us looking for a "-0" token.
  bool saw_zero = false;

  void build(element e, Value& out) {
    switch (e.type()) {
      case element_type::ARRAY: {
        simdjson::dom::array array = e.get_array().value_unsafe();
        out = Value::value_t::array;
        auto& items = *out.get_ptr<Value::array_t*>();
        items.reserve(array.size());
        for (element child : array) build(child, items.emplace_back());
        return;
      }
      case element_type::OBJECT: {
        out = Value::value_t::object;
        auto& members = *out.get_ptr<Value::object_t*>();
        simdjson::dom::object object = e.get_object().value_unsafe();
        for (simdjson::dom::key_value_pair member : object) {
          build(member.value, members[std::string(member.key)]);
        }
        return;
      }
      case element_type::INT64: {
        std::int64_t n = e.get_int64().value_unsafe();
        if (n < 0) {
          out = static_cast<Value::number_integer_t>(n);
        } else {
          saw_zero = saw_zero || n == 0;
          out = static_cast<Value::number_unsigned_t>(n);
        }
        return;
      }
      case element_type::UINT64:
        out = static_cast<Value::number_unsigned_t>(e.get_uint64().value_unsafe());
        return;
      case element_type::DOUBLE:
        out = static_cast<Value::number_float_t>(e.get_double().value_unsafe());
        return;
      case element_type::STRING: {
        std::string_view s = e.get_string().value_unsafe();
        out = Value::value_t::string;
        out.get_ptr<Value::string_t*>()->assign(s.data(), s.size());
        return;
      }
      case element_type::BOOL:
        out = e.get_bool().value_unsafe();
        return;
      case element_type::NULL_VALUE:
        out = nullptr;
        return;
    }
  }
};

// True if `text` may hold the integer token "-0": a '-', a '0' and then no
// digit (as in a date, "2024-01-05"), fraction or exponent. Inside a string this is a false alarm,
// which only costs a slower parse.
bool may_hold_negative_zero(std::string_view text) {
  for (std::size_t at = text.find("-0"); at != std::string_view::npos;
       at = text.find("-0", at + 2)) {
    std::size_t next = at + 2;
    if (next == text.size()) return true;
    char c = text[next];
    if ((c < '0' || c > '9') && c != '.' && c != 'e' && c != 'E') return true;
  }
  return false;
}

bool build_from(simdjson::dom::parser& parser, std::string_view text, Value& out) {
  element root;
  if (parser.parse(text.data(), text.size()).get(root) != simdjson::SUCCESS) return false;
  Builder builder;
  builder.build(root, out);
  return !(builder.saw_zero && may_hold_negative_zero(text));
}

}  // namespace

simdjson::dom::parser& thread_parser() {
  thread_local simdjson::dom::parser parser = [] {
    simdjson::dom::parser p;
    // On failure parse() allocates again and reports it; nothing to do here.
    [[maybe_unused]] simdjson::error_code ignored = p.allocate(4096, kMaxValueDepth);
    return p;
  }();
  return parser;
}

bool read_json_fast(std::string_view text, Value& out) {
  if (text.size() <= kReusedParserMaxBytes) return build_from(thread_parser(), text, out);
  simdjson::dom::parser parser;
  if (parser.allocate(text.size(), kMaxValueDepth) != simdjson::SUCCESS) return false;
  return build_from(parser, text, out);
}

}  // namespace kvstore::detail
