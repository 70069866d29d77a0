// The memory driver: an ordered, thread-safe, in-process store.
//
// URL: "memory:" (no path, no driver parameters). Every open() makes a new,
// empty store; its data lives as long as the KvStore object. TTLs run on
// this process's steady clock.
#pragma once

#include <memory>

#include <kvstore/store.h>

namespace kvstore {
class Driver;
class Url;
}  // namespace kvstore

namespace kvstore::memory {

// A new empty store.
std::unique_ptr<KvStore> create();

// The registry's factory for "memory:" URLs.
std::unique_ptr<Driver> open(Url& url);

}  // namespace kvstore::memory
