// The memory driver: an ordered, thread-safe, in-process store.
//
// URL: "memory:" (no path, no driver parameters). Every open() makes a new,
// empty store; its data lives as long as the KvStore object. TTLs run on
// this process's steady clock.
#pragma once

#include <memory>

#include <kvstore/store.h>
#include <kvstore/url.h>

namespace kvstore::memory {

// A new empty store.
std::unique_ptr<KvStore> create();

// The registry's factory for "memory:" URLs.
std::unique_ptr<KvStore> open(Url& url);

}  // namespace kvstore::memory
