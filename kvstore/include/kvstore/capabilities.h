// Capabilities: what a store is and offers, fixed for the store's lifetime.
#pragma once

#include <cstddef>

#include <kvstore/key.h>
#include <kvstore/value.h>

namespace kvstore {

struct Capabilities {
  bool persistent = false;    // data outlives the KvStore object
  bool shared = false;        // other processes (or machines) see the same data
  bool server_clock = false;  // TTLs are measured on a server's clock, not this process's
  bool pooled = false;        // keeps a connection pool: takes pool_size, pool_timeout, ...
  bool native_async = false;  // async calls need no worker thread (a reactor drives them)
  std::size_t max_key_bytes = kMaxKeyBytes;
  std::size_t max_value_bytes = kDefaultMaxValueBytes;  // serialized JSON text
  std::size_t list_page_size = 256;  // entries fetched per backend round trip by list()
};

}  // namespace kvstore
