// Keys: KvKey, the rules every key obeys, and its order.
//
// A key is a non-empty list of components, each arbitrary valid UTF-8 without
// a NUL byte ("" included). Keys compare component by component, byte-wise,
// and a key sorts before its extensions: {"a"} < {"a",""} < {"a","b"} < {"ab"}.
// {"a","b"}, {"a:b"}, {"a","b",""} and {"ab"} are four different keys.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace kvstore {

using KvKey = std::vector<std::string>;

// Limits that hold in every driver. They are checked before any I/O.
inline constexpr std::size_t kMaxKeyBytes = 1024;     // sum of the components' byte lengths
inline constexpr std::size_t kMaxKeyComponents = 256; // components in one key

// Throws Error(invalid_argument) if `key` is empty (unless `allow_empty`, as for
// a list prefix), has a component with a NUL byte or invalid UTF-8, and
// Error(limit_exceeded) if it exceeds the limits above.
void validate_key(const KvKey& key, bool allow_empty = false);

// True if `text` is well-formed UTF-8 (no overlong forms, surrogates or
// code points above U+10FFFF).
bool is_valid_utf8(std::string_view text) noexcept;

// True if `key` equals `prefix` or extends it by whole components.
bool has_prefix(const KvKey& key, const KvKey& prefix) noexcept;

// Human-readable rendering for messages and tools: ["a","b:c"] (JSON array).
std::string to_display_string(const KvKey& key);

}  // namespace kvstore
