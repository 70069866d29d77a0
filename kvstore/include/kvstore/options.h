// Options for writes and listings.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>

#include <kvstore/key.h>

namespace kvstore {

struct SetOptions {
  // Time to live, at millisecond precision; must be positive. std::nullopt:
  // the entry never expires. Each write replaces the previous TTL.
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
