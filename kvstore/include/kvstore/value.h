// Values: any JSON document, and the JSON equality cas() uses.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace kvstore {

// Any JSON value. JSON null is a value, distinct from "absent" (std::nullopt).
using Value = nlohmann::json;

// Default and largest maximum serialized value size (Cloudflare KV's limit).
// A store may be configured lower (URL parameter max_value_size).
inline constexpr std::size_t kDefaultMaxValueBytes = 25u * 1024 * 1024;
// Deepest nesting of arrays/objects a value may have.
inline constexpr std::size_t kMaxValueDepth = 512;

// JSON equality: object member order does not matter, array order does,
// numbers compare by exact mathematical value (1 == 1.0, and 64-bit integers
// never collapse through a double), null equals only null.
bool json_equal(const Value& a, const Value& b);

// Serializes `value` to the compact JSON text kvstore stores (object members
// sorted, UTF-8 unescaped). Throws Error(invalid_argument) for a string that
// is not valid UTF-8, a non-finite number or nesting deeper than
// kMaxValueDepth, and Error(limit_exceeded) if the text would exceed
// `max_bytes`.
std::string to_json_text(const Value& value, std::size_t max_bytes = kDefaultMaxValueBytes);

// Checks that `text` is one complete JSON value (surrounding white space
// allowed; a byte-order mark is not white space) in valid UTF-8, nested at most kMaxValueDepth deep and at most
// `max_bytes` long, without building a Value. Throws Error(invalid_argument)
// or Error(limit_exceeded).
void validate_json_text(std::string_view text, std::size_t max_bytes = kDefaultMaxValueBytes);

// Parses stored JSON text. Throws Error(corrupt, driver) if it is not JSON.
Value parse_stored_json(std::string_view text, const std::string& driver);

}  // namespace kvstore
