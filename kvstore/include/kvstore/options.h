// Options for writes and listings.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>

#include <kvstore/key.h>
#include <kvstore/value.h>

namespace kvstore {

// The longest TTL a write may carry: 100 years (36,525 days). Every driver
// can represent an expiry this far ahead (a steady_clock in nanoseconds, a
// PostgreSQL interval, Redis PX, a BIGINT of milliseconds); longer TTLs are
// Error(invalid_argument), checked before any I/O.
inline constexpr std::chrono::milliseconds kMaxTtl = std::chrono::hours(24) * 36525;

// The clock of absolute expiry times (SetOptions::expires_at, Entry::expires_at).
using Clock = std::chrono::system_clock;

// The largest metadata a write may carry: 1 KiB of compact JSON text. More
// is Error(limit_exceeded), checked before any I/O.
inline constexpr std::size_t kMaxMetadataBytes = 1024;

// What a write stores besides its value. Each write (set, set_json, cas,
// set_many) replaces both the expiry and the metadata of the entry: a write
// without them leaves an entry that never expires and has no metadata.
struct SetOptions {
  // Time to live, at millisecond precision; must be positive and at most
  // kMaxTtl. std::nullopt: no TTL.
  std::optional<std::chrono::milliseconds> ttl;
  // When the entry expires, instead of a TTL (giving both is
  // Error(invalid_argument)). Kept to the millisecond (rounded down); it must
  // lie in the future when the call is made and at most kMaxTtl ahead, or the
  // call fails with Error(invalid_argument). Server drivers compare it with
  // the server's clock, so it assumes the two clocks agree.
  std::optional<Clock::time_point> expires_at = std::nullopt;
  // Any JSON value kept next to the value and returned with it by
  // get_entry() and the listings; at most kMaxMetadataBytes serialized.
  // std::nullopt: none (a JSON null is metadata like any other).
  std::optional<Value> metadata = std::nullopt;
};

struct ListOptions {
  // Resume strictly after this key (a cursor from a previous listing). It
  // need not exist, nor lie under the prefix.
  std::optional<KvKey> start_after;
  // Return at most this many entries in total. std::nullopt: no limit.
  std::optional<std::size_t> limit;
};

}  // namespace kvstore
