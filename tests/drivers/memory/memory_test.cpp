// Tests of the memory driver beyond the shared conformance suite: its
// parsed-value cache and the atomicity of its bulk calls.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <kvstore/kvstore.h>

using namespace std::chrono_literals;
using kvstore::KvKey;
using kvstore::SetEntry;
using kvstore::Value;

namespace {

std::vector<KvKey> numbered_keys(std::size_t n) {
  std::vector<KvKey> keys;
  for (std::size_t i = 0; i < n; ++i) keys.push_back({"k", std::to_string(i)});
  return keys;
}

}  // namespace

// get() hands out a cached parse of the stored text; a bulk write must drop
// it as a single write does, or get() would keep answering the old value.
TEST_CASE("memory: get after set_many and remove_many sees the new state", "[memory][bulk]") {
  auto store = kvstore::open("memory:");
  store->set({"a"}, "old");
  store->set({"b"}, Value{{"n", 1}});
  REQUIRE(store->get({"a"}) == Value("old"));  // both parsed and cached now
  REQUIRE(store->get({"b"}) == Value{{"n", 1}});

  store->set_many({{{"a"}, "new"}, {{"b"}, Value{{"n", 2}}, {150ms}}, {{"c"}, 3}});
  CHECK(store->get({"a"}) == Value("new"));
  CHECK(store->get({"b"}) == Value{{"n", 2}});
  CHECK(store->get({"c"}) == Value(3));

  store->remove_many({{"a"}, {"missing"}});
  CHECK_FALSE(store->get({"a"}).has_value());
  store->set({"a"}, "again");
  CHECK(store->get({"a"}) == Value("again"));

  std::this_thread::sleep_for(300ms);  // b's TTL from set_many has passed
  CHECK_FALSE(store->get({"b"}).has_value());
  const auto values = store->get_many({{"a"}, {"b"}, {"c"}});
  CHECK(values == std::vector<std::optional<Value>>{Value("again"), std::nullopt, Value(3)});
}

// The driver takes its lock once per bulk call, so a get_many never sees
// part of a set_many: every key it reads carries the same round's value.
TEST_CASE("memory: get_many sees a set_many whole or not at all", "[memory][bulk][concurrency]") {
  auto store = kvstore::open("memory:");
  const std::vector<KvKey> keys = numbered_keys(200);
  auto round = [&](int n) {
    std::vector<SetEntry> entries;
    for (const KvKey& key : keys) entries.push_back({key, n});
    return entries;
  };
  store->set_many(round(0));
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    for (int n = 1; !stop.load(); ++n) {
      store->set_many(round(n));
      if (n % 2 == 0) store->remove_many(keys);
    }
  });
  int torn = 0;
  int reads = 0;
  const auto until = std::chrono::steady_clock::now() + 500ms;
  while (std::chrono::steady_clock::now() < until) {
    const auto values = store->get_many(keys);
    ++reads;
    for (const auto& value : values) {
      if (value != values.front()) {
        ++torn;
        break;
      }
    }
  }
  stop = true;
  writer.join();
  CHECK(reads > 10);
  CHECK(torn == 0);
}
