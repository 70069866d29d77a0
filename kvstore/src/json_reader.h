// Internal: builds a Value from JSON text through simdjson.
#pragma once

#include <string_view>

#include <kvstore/value.h>

namespace simdjson::dom {
class parser;
}

namespace kvstore::detail {

// Sets `out` to exactly what nlohmann::json::parse(text) gives (same value,
// same number types, last duplicate member wins) and returns true, or returns
// false without a usable `out` where simdjson cannot decide: text it refuses
// (invalid, integers beyond 64 bits, exponents beyond a double, nesting past
// kMaxValueDepth) or a "-0" integer, whose sign the DOM does not keep. The
// caller then asks nlohmann. Uses a per-thread parser; safe from any thread.
bool read_json_fast(std::string_view text, Value& out);

// The calling thread's simdjson parser, reused across calls so that parsing
// allocates nothing once it has seen a document of the size; only for texts
// up to kReusedParserMaxBytes. A result it returns stays valid until the
// thread's next parse.
simdjson::dom::parser& thread_parser();
inline constexpr std::size_t kReusedParserMaxBytes = 1024 * 1024;

}  // namespace kvstore::detail
