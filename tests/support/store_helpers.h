// Helpers for driver tests that use a store through the public API.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <string>

#include <catch2/catch.hpp>

#include <kvstore/kvstore.h>

namespace test_support {

// Stores connect lazily: open() and then ping(), for tests of what
// connecting (or opening a database file) reports.
inline std::unique_ptr<kvstore::KvStore> open_and_ping(const std::string& url) {
  auto store = kvstore::open(url);
  store->ping();
  return store;
}

// Counts the list pages a store fetches, to see its list_page_size at work.
class PageCounter final : public kvstore::Observer {
 public:
  void on_call(const kvstore::CallRecord& call) noexcept override {
    if (call.operation == kvstore::Operation::list_page) pages_.fetch_add(1);
  }
  int pages() const { return pages_.load(); }

 private:
  std::atomic<int> pages_{0};
};

// Checks that `store` was made with max_value_size=1KiB&list_page_size=2:
// its capabilities say so, a value one byte over 1 KiB is refused before
// any I/O, and listing five entries under `prefix` (written here) takes
// three round trips of at most two entries.
inline void check_small_store_settings(kvstore::KvStore& store, const kvstore::KvKey& prefix) {
  CHECK(store.capabilities().max_value_bytes == 1024);
  CHECK(store.capabilities().list_page_size == 2);
  kvstore::KvKey key = prefix;
  key.push_back("big");
  store.set(key, std::string(1022, 'x'));  // exactly 1024 bytes with the quotes
  try {
    store.set(key, std::string(1023, 'x'));
    FAIL("a 1025-byte value was accepted");
  } catch (const kvstore::Error& e) {
    CHECK(e.code() == kvstore::ErrorCode::limit_exceeded);
  }
  CHECK(store.get(key) == kvstore::Value(std::string(1022, 'x')));
  store.remove(key);

  for (int i = 0; i < 5; ++i) {
    kvstore::KvKey entry = prefix;
    entry.push_back(std::to_string(i));
    store.set(entry, i);
  }
  auto counter = std::make_shared<PageCounter>();
  store.set_observer(counter);
  int listed = 0;
  for (const kvstore::Entry& entry : store.list(prefix)) {
    CHECK(entry.value == kvstore::Value(listed));
    ++listed;
  }
  store.set_observer(nullptr);
  CHECK(listed == 5);
  CHECK(counter->pages() == 3);
}

}  // namespace test_support
