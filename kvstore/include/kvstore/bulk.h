// Bulk calls: many keys in one call (KvStore::get_many, set_many,
// remove_many), in the spirit of Cloudflare Workers KV's bulk API.
#pragma once

#include <cstddef>

#include <kvstore/key.h>
#include <kvstore/options.h>
#include <kvstore/value.h>

namespace kvstore {

// The most keys or entries one bulk call takes; more is
// Error(limit_exceeded), before any I/O.
inline constexpr std::size_t kMaxBulkEntries = 10000;
// The most JSON text one set_many() call writes, summed over its entries
// (each one also within the store's value size limit).
inline constexpr std::size_t kMaxBulkBytes = 100u * 1024 * 1024;

// One write of a set_many() call: what set(key, value, options) would store.
struct SetEntry {
  KvKey key;
  Value value;
  SetOptions options = {};
};

}  // namespace kvstore
