// The byte encoding drivers store keys in.
//
// Drivers never see a KvKey: the core hands them an encoded key, a byte string
// whose plain byte-wise order (memcmp, SQL BINARY/"C" collation, Redis ZRANGEBYLEX)
// is exactly the key order of key.h, and in which a key prefix is a string
// prefix. A listing is then one ordered range scan [begin, end).
//
// Encoding: each component's bytes, with 0x01 written as 0x02 0x02 and 0x02 as
// 0x02 0x03, followed by the terminator 0x01. Encoded keys contain no NUL byte
// and are valid UTF-8 whenever the components are, so text columns can hold
// them; they are at most 2 * kMaxKeyBytes + kMaxKeyComponents bytes long.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include <kvstore/key.h>

namespace kvstore {

// Longest encoded key a valid KvKey can produce.
inline constexpr std::size_t kMaxEncodedKeyBytes = 2 * kMaxKeyBytes + kMaxKeyComponents;

std::string encode_key(const KvKey& key);

// Inverse of encode_key. Throws Error(corrupt) for bytes encode_key cannot
// produce (for example a key read back from a backend that was tampered with).
KvKey decode_key(std::string_view encoded);

// A half-open range [begin, end) of encoded keys; no end means "to the last key".
struct KeyRange {
  std::string begin;
  std::optional<std::string> end;
};

// The encoded keys a listing of `prefix` covers, resuming strictly after
// `start_after` if given. An empty prefix covers every key. The range may be
// empty (begin >= end) when start_after lies past the prefix.
KeyRange list_range(const KvKey& prefix, const std::optional<KvKey>& start_after);

}  // namespace kvstore
