// Conformance: bulk calls — get_many, set_many and remove_many behave as
// the single calls would, key by key, and reject a bad item before any I/O.
#include <catch2/catch.hpp>

#include <chrono>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "fixture.h"
#include "support.h"

using namespace std::chrono_literals;
using kvstore::ErrorCode;
using kvstore::KvKey;
using kvstore::SetEntry;
using kvstore::Value;

namespace {

std::vector<KvKey> numbered_keys(const std::string& first, std::size_t n) {
  std::vector<KvKey> keys;
  keys.reserve(n);
  for (std::size_t i = 0; i < n; ++i) keys.push_back({first, std::to_string(i)});
  return keys;
}

// Requires `call` to fail with `code` and name item `index` in its message.
void require_item_error(ErrorCode code, std::size_t index, const std::function<void()>& call) {
  try {
    call();
  } catch (const kvstore::Error& e) {
    INFO("error: " << e.what());
    CHECK(e.code() == code);
    CHECK(std::string(e.message()).find("item " + std::to_string(index) + ":") !=
          std::string::npos);
    CHECK_FALSE(e.retryable());
    return;
  }
  FAIL("expected kvstore::Error(" << kvstore::to_string(code) << "), nothing was thrown");
}

}  // namespace

TEST_CASE("bulk: get_many answers in the order asked, absent as nullopt", "[bulk]") {
  auto store = conformance::open_store();
  store->set({"b", "one"}, 1);
  store->set_json({"b", "text"}, "{ \"b\" : [1, 2.5] }");
  store->set({"b", "null"}, nullptr);
  store->set({"b", "gone"}, "x", {200ms});
  std::this_thread::sleep_for(500ms);

  const auto values = store->get_many(
      {{"b", "missing"}, {"b", "one"}, {"b", "text"}, {"b", "null"}, {"b", "gone"}, {"b", "one"}});
  REQUIRE(values.size() == 6);
  CHECK_FALSE(values[0].has_value());
  CHECK(values[1] == Value(1));
  CHECK(values[2] == Value::parse(R"({"b":[1,2.5]})"));
  REQUIRE(values[3].has_value());  // a stored null is a value, not absence
  CHECK(values[3]->is_null());
  CHECK_FALSE(values[4].has_value());  // expired
  CHECK(values[5] == Value(1));        // a key asked twice is answered twice
  CHECK(store->get_many({}).empty());
}

TEST_CASE("bulk: set_many stores each entry with its own TTL, and the last of a repeated key wins",
          "[bulk][ttl]") {
  auto store = conformance::open_store();
  store->set({"s", "old"}, "before");
  store->set({"s", "ttl-replaced"}, "before", {200ms});
  store->set_many({
      {{"s", "old"}, "after"},
      {{"s", "short"}, "brief", {300ms}},
      {{"s", "ttl-replaced"}, "kept"},
      {{"s", "twice"}, 1},
      {{"s", "long"}, Value::parse(R"({"z":1,"a":[true,null]})"), {60s}},
      {{"s", "twice"}, 2},
  });
  CHECK(store->get({"s", "old"}) == Value("after"));
  CHECK(store->get({"s", "short"}) == Value("brief"));
  CHECK(store->get({"s", "twice"}) == Value(2));
  CHECK(store->get_json({"s", "long"}) == R"({"a":[true,null],"z":1})");  // as set() stores it
  std::this_thread::sleep_for(700ms);
  CHECK_FALSE(store->get({"s", "short"}).has_value());
  CHECK(store->get({"s", "ttl-replaced"}) == Value("kept"));  // each write replaces the TTL
  CHECK(support::keys_of(store->list({"s"})) ==
        std::vector<KvKey>{{"s", "long"}, {"s", "old"}, {"s", "ttl-replaced"}, {"s", "twice"}});
  store->set_many({});  // nothing to do
}

TEST_CASE("bulk: remove_many removes the keys named and nothing else", "[bulk]") {
  auto store = conformance::open_store();
  store->set_many({{{"r", "a"}, 1}, {{"r", "b"}, 2}, {{"r", "c"}, 3}, {{"r", "b", "deeper"}, 4}});
  store->remove_many({{"r", "a"}, {"r", "missing"}, {"r", "b"}, {"r", "a"}});
  CHECK(support::keys_of(store->list({"r"})) ==
        std::vector<KvKey>{{"r", "b", "deeper"}, {"r", "c"}});
  store->remove_many({});
  CHECK(store->get({"r", "c"}) == Value(3));
}

TEST_CASE("bulk: 10000 entries in one call each way", "[bulk][slow]") {
  auto store = conformance::open_store();
  const std::vector<KvKey> keys = numbered_keys("many", kvstore::kMaxBulkEntries);
  std::vector<SetEntry> entries;
  entries.reserve(keys.size());
  for (std::size_t i = 0; i < keys.size(); ++i) {
    entries.push_back({keys[i], Value{{"n", i}, {"pad", std::string(64, 'p')}}});
  }
  store->set_many(entries);

  auto values = store->get_many(keys);
  REQUIRE(values.size() == keys.size());
  std::size_t right = 0;
  for (std::size_t i = 0; i < values.size(); ++i) {
    right += values[i] && (*values[i])["n"] == i;
  }
  CHECK(right == keys.size());
  CHECK(store->list({"many"}).to_vector().size() == keys.size());

  store->remove_many(keys);
  std::size_t left = 0;
  for (const auto& value : store->get_many(keys)) left += value.has_value();
  CHECK(left == 0);
  CHECK(store->list({"many"}).to_vector().empty());
}

TEST_CASE("bulk: a bad item rejects the whole call before any write", "[bulk][errors]") {
  auto store = conformance::open_store();
  store->set({"v", "kept"}, "original");
  const std::size_t n = kvstore::kMaxBulkEntries;
  auto valid_entries = [&] {
    std::vector<SetEntry> entries;
    for (const KvKey& key : numbered_keys("v", n)) entries.push_back({key, 1});
    entries.front() = {{"v", "kept"}, "overwritten"};
    return entries;
  };
  auto nothing_written = [&] {
    CHECK(store->get({"v", "kept"}) == Value("original"));
    CHECK(store->list({"v"}).to_vector().size() == 1);
  };

  auto entries = valid_entries();
  entries.back().key = {};  // the empty key is invalid
  require_item_error(ErrorCode::invalid_argument, n - 1, [&] { store->set_many(entries); });
  nothing_written();

  entries = valid_entries();
  entries.back().key = {"v", std::string("nul\0byte", 8)};
  require_item_error(ErrorCode::invalid_argument, n - 1, [&] { store->set_many(entries); });
  nothing_written();

  entries = valid_entries();
  entries[n / 2].options.ttl = 0ms;
  require_item_error(ErrorCode::invalid_argument, n / 2, [&] { store->set_many(entries); });
  nothing_written();

  entries = valid_entries();
  entries.back().value = std::string(store->capabilities().max_value_bytes, 'x');
  require_item_error(ErrorCode::limit_exceeded, n - 1, [&] { store->set_many(entries); });
  nothing_written();

  entries = valid_entries();
  entries.push_back({{"v", "one-too-many"}, 1});
  support::require_error(ErrorCode::limit_exceeded, [&] { store->set_many(entries); });
  nothing_written();

  // Reads and removals are checked the same way.
  std::vector<KvKey> keys = {{"v", "kept"}, {"v", "other"}, {}};
  require_item_error(ErrorCode::invalid_argument, 2, [&] { store->remove_many(keys); });
  require_item_error(ErrorCode::invalid_argument, 2, [&] { (void)store->get_many(keys); });
  keys = numbered_keys("v", n + 1);
  support::require_error(ErrorCode::limit_exceeded, [&] { store->remove_many(keys); });
  support::require_error(ErrorCode::limit_exceeded, [&] { (void)store->get_many(keys); });
  nothing_written();
}
