// Options for writes and listings.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>

#include <kvstore/key.h>

namespace kvstore {

// The longest TTL a write may carry: 100 years (36,525 days). Every driver
// can represent an expiry this far ahead (a steady_clock in nanoseconds, a
// PostgreSQL interval, Redis PX, a BIGINT of milliseconds); longer TTLs are
// Error(invalid_argument), checked before any I/O.
inline constexpr std::chrono::milliseconds kMaxTtl = std::chrono::hours(24) * 36525;

struct SetOptions {
  // Time to live, at millisecond precision; must be positive and at most
  // kMaxTtl. std::nullopt: the entry never expires. Each write replaces the
  // previous TTL.
  std::optional<std::chrono::milliseconds> ttl;
};

struct ListOptions {
  // Resume strictly after this key (a cursor from a previous listing). It
  // need not exist, nor lie under the prefix.
  std::optional<KvKey> start_after;
  // Return at most this many entries in total. std::nullopt: no limit.
  std::optional<std::size_t> limit;
};

}  // namespace kvstore
