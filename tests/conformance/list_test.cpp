// Conformance: list — whole-component prefixes, one byte-wise order for every
// driver, expiry, pagination, and stability under concurrent writes.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <exception>
#include <random>
#include <set>
#include <thread>

#include "fixture.h"
#include "support.h"

using kvstore::KvKey;
using kvstore::ListOptions;
using kvstore::Value;

namespace {
// The contract's order: component by component, byte-wise (std::string
// compares as unsigned char), a key before its extensions.
std::vector<KvKey> sorted(std::vector<KvKey> keys) {
  std::sort(keys.begin(), keys.end());
  return keys;
}
}  // namespace

TEST_CASE("list: ascending byte-wise key order in every driver", "[list]") {
  auto store = conformance::open_store();
  std::vector<KvKey> keys = {{"a"},      {"a", ""},  {"a", "b"},     {"a", "b", "c"},
                             {"a", "c"}, {"ab"},     {"a:b"},        {"a/b"},
                             {"a b"},    {"a\x01"},  {"a\x02"},      {"a\x03"},
                             {"a\x7f"},  {"A"},      {"Z"},          {"z"},
                             {"é"},      {"ß"},      {"😀"},          {"日本"},
                             {""},       {"", ""},   {"", "a"},      {"_"},
                             {"%"},      {"a", "é"}, {"a", "z"},     {"a", "\xef\xbf\xbf"},
                             {"b"},      {"aa"},     {"a", "b", ""}, {"a", "a", "a", "a"}};
  std::vector<KvKey> shuffled = keys;
  std::shuffle(shuffled.begin(), shuffled.end(), std::mt19937(42));
  for (std::size_t i = 0; i < shuffled.size(); ++i) store->set(shuffled[i], static_cast<int>(i));
  CHECK(support::keys_of(store->list()) == sorted(keys));
  CHECK(support::keys_of(store->list_json()) == sorted(keys));
  for (const kvstore::Entry& e : store->list()) {
    auto at = std::find(shuffled.begin(), shuffled.end(), e.key) - shuffled.begin();
    CHECK(e.value == Value(static_cast<int>(at)));
  }
}

TEST_CASE("list: a prefix matches whole components with the exact key first", "[list]") {
  auto store = conformance::open_store();
  const std::vector<KvKey> keys = {
      {"a"},   {"a", "b"}, {"a", "b", "c"}, {"a", ""},  {"ab"},
      {"a:b"}, {"a\x01"},  {"b"},           {"A", "b"}, {"a", "x", "y", "z"}};
  for (const KvKey& k : keys) store->set(k, true);
  CHECK(support::keys_of(store->list({"a"})) ==
        std::vector<KvKey>{{"a"}, {"a", ""}, {"a", "b"}, {"a", "b", "c"}, {"a", "x", "y", "z"}});
  CHECK(support::keys_of(store->list({"a", "b"})) ==
        std::vector<KvKey>{{"a", "b"}, {"a", "b", "c"}});
  CHECK(support::keys_of(store->list({"a", ""})) == std::vector<KvKey>{{"a", ""}});
  CHECK(support::keys_of(store->list({"a", "x"})) == std::vector<KvKey>{{"a", "x", "y", "z"}});
  CHECK(support::keys_of(store->list({"ab"})) == std::vector<KvKey>{{"ab"}});
  CHECK(support::keys_of(store->list({"A"})) == std::vector<KvKey>{{"A", "b"}});
  CHECK(support::keys_of(store->list({"c"})).empty());
  CHECK(support::keys_of(store->list({"a", "b", "c", "d"})).empty());
  CHECK(support::keys_of(store->list({})).size() == keys.size());
}

TEST_CASE("list: pattern characters in a prefix are literal", "[list]") {
  auto store = conformance::open_store();
  const std::vector<KvKey> keys = {{"a%"}, {"a%", "x"}, {"abc"}, {"a_"}, {"a_", "y"},
                                   {"ab"}, {"a*"},      {"a?"},  {"a["}, {"a\\"},
                                   {"A%"}, {"a.", "z"}, {"a"}};
  for (const KvKey& k : keys) store->set(k, 1);
  CHECK(support::keys_of(store->list({"a%"})) == std::vector<KvKey>{{"a%"}, {"a%", "x"}});
  CHECK(support::keys_of(store->list({"a_"})) == std::vector<KvKey>{{"a_"}, {"a_", "y"}});
  CHECK(support::keys_of(store->list({"a*"})) == std::vector<KvKey>{{"a*"}});
  CHECK(support::keys_of(store->list({"a?"})) == std::vector<KvKey>{{"a?"}});
  CHECK(support::keys_of(store->list({"a["})) == std::vector<KvKey>{{"a["}});
  CHECK(support::keys_of(store->list({"a\\"})) == std::vector<KvKey>{{"a\\"}});
  CHECK(support::keys_of(store->list({"a."})) == std::vector<KvKey>{{"a.", "z"}});
}

TEST_CASE("list: limit and start_after paginate", "[list]") {
  // Backend pages smaller than the listing.
  auto store = conformance::open_store_with("list_page_size=4");
  std::vector<KvKey> keys;
  for (int i = 0; i < 25; ++i) {
    char name[8];
    std::snprintf(name, sizeof name, "%03d", i);
    keys.push_back({"p", name});
    store->set(keys.back(), i);
  }
  store->set({"o"}, "before");
  store->set({"q"}, "after");
  CHECK(support::keys_of(store->list({"p"}, {.start_after = std::nullopt, .limit = 0})).empty());
  CHECK(support::keys_of(store->list({"p"}, {.start_after = std::nullopt, .limit = 3})) ==
        std::vector<KvKey>(keys.begin(), keys.begin() + 3));
  CHECK(support::keys_of(store->list({"p"}, {.start_after = keys[20], .limit = std::nullopt})) ==
        std::vector<KvKey>(keys.begin() + 21, keys.end()));
  // The cursor need not exist, nor lie under the prefix.
  CHECK(support::keys_of(store->list({"p"}, {.start_after = KvKey{"p", "010x"}, .limit = 2})) ==
        std::vector<KvKey>{keys[11], keys[12]});
  CHECK(support::keys_of(store->list({"p"}, {.start_after = KvKey{"a"}, .limit = 1})) ==
        std::vector<KvKey>{keys[0]});
  CHECK(support::keys_of(store->list({"p"}, {.start_after = KvKey{"p"}, .limit = 1})) ==
        std::vector<KvKey>{keys[0]});
  CHECK(support::keys_of(store->list({"p"}, {.start_after = KvKey{"z"}, .limit = 5})).empty());
  CHECK(support::keys_of(store->list({"p"}, {.start_after = keys.back(), .limit = 5})).empty());

  // Paging by cursor, across backend pages smaller than the listing.
  std::vector<KvKey> seen;
  std::optional<KvKey> cursor;
  for (;;) {
    std::vector<KvKey> page =
        support::keys_of(store->list({"p"}, {.start_after = cursor, .limit = 7}));
    if (page.empty()) break;
    REQUIRE(page.size() <= 7);
    seen.insert(seen.end(), page.begin(), page.end());
    cursor = page.back();
  }
  CHECK(seen == keys);
  CHECK(support::keys_of(store->list()).size() == keys.size() + 2);
}

TEST_CASE("list: a range is lazy and single-pass", "[list]") {
  auto store = conformance::open_store_with("list_page_size=2");
  for (int i = 0; i < 9; ++i) store->set({"k", std::to_string(i)}, i);
  auto range = store->list({"k"});
  int seen = 0;
  for (const kvstore::Entry& e : range) {
    CHECK(e.value == Value(seen));
    if (++seen == 3) break;
  }
  CHECK(seen == 3);
  // Entries written after the listing started may appear once the cursor gets there.
  auto all = store->list({"k"});
  auto it = all.begin();
  store->set({"k", "9"}, 9);
  int count = 0;
  for (; it != all.end(); ++it) ++count;
  CHECK(count == 10);
  CHECK(store->list({"nothing"}).to_vector().empty());
}

TEST_CASE("list: keys present throughout are listed exactly once under concurrent writes",
          "[list][concurrency]") {
  auto store = conformance::open_store_with("list_page_size=5");
  std::vector<KvKey> stable;
  for (int i = 0; i < 120; ++i) {
    char name[8];
    std::snprintf(name, sizeof name, "%04d", i * 10);
    stable.push_back({"s", name});
    store->set(stable.back(), i);
  }
  std::atomic<bool> stop{false};
  std::atomic<int> churn{0};
  std::exception_ptr writer_error;
  std::thread writer([&] {
    std::mt19937 random(7);
    try {
      while (!stop) {
        // Keys between and around the stable ones, created and deleted.
        char name[16];
        std::snprintf(name, sizeof name, "%04d%s", static_cast<int>(random() % 1200),
                      random() % 2 ? "x" : "");
        KvKey key{"s", name};
        if (std::binary_search(stable.begin(), stable.end(), key)) continue;
        if (random() % 3) {
          store->set(key, "churn");
        } else {
          store->remove(key);
        }
        ++churn;
      }
    } catch (...) {
      writer_error = std::current_exception();
    }
  });
  // A listing that throws below reports its error instead of destroying a
  // joinable thread (std::terminate).
  struct StopWriter {
    std::atomic<bool>& stop;
    std::thread& writer;
    ~StopWriter() {
      stop = true;
      if (writer.joinable()) writer.join();
    }
  } stop_writer{stop, writer};
  for (int pass = 0; pass < 3; ++pass) {
    std::vector<KvKey> listed;
    std::optional<KvKey> cursor;
    for (;;) {
      auto page = support::keys_of(store->list({"s"}, {.start_after = cursor, .limit = 7}));
      if (page.empty()) break;
      listed.insert(listed.end(), page.begin(), page.end());
      cursor = page.back();
      // Let the writer change the range between every two pages.
      const int target = churn + 2;
      const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(5);
      while (churn < target && std::chrono::steady_clock::now() < give_up)
        std::this_thread::yield();
    }
    CHECK(std::is_sorted(listed.begin(), listed.end()));
    CHECK(std::adjacent_find(listed.begin(), listed.end()) == listed.end());
    std::vector<KvKey> found;
    std::copy_if(listed.begin(), listed.end(), std::back_inserter(found), [&](const KvKey& k) {
      return std::binary_search(stable.begin(), stable.end(), k);
    });
    CHECK(found == stable);
  }
  stop = true;
  writer.join();
  if (writer_error) std::rethrow_exception(writer_error);
  CHECK(churn > 3 * 17);  // at least two writes between pages, over three passes
}
