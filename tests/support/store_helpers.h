// Helpers for driver tests that use a store through the public API.
#pragma once

#include <memory>
#include <string>

#include <kvstore/kvstore.h>

namespace test_support {

// Stores connect lazily: open() and then ping(), for tests of what
// connecting (or opening a database file) reports.
inline std::unique_ptr<kvstore::KvStore> open_and_ping(const std::string& url) {
  auto store = kvstore::open(url);
  store->ping();
  return store;
}

}  // namespace test_support
