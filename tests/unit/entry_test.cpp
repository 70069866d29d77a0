// Entry metadata and expiry in the core: what the driver is handed
// (StoredOptions), the kit's defaults for do_get_entry and do_list_keys, and
// the observer's operations.
#include <catch2/catch.hpp>

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include <kvstore/driver.h>
#include <kvstore/kvstore.h>

using kvstore::Clock;
using kvstore::KvKey;
using kvstore::SetOptions;
using kvstore::StoredEntry;
using kvstore::StoredOptions;
using kvstore::Value;

namespace {

// A map that keeps the last options of each write and implements only the
// required members, so get_entry and list_keys run the kit's defaults.
class RecordingDriver final : public kvstore::Driver {
 public:
  RecordingDriver() : Driver("recording", kvstore::Capabilities{}) {}

  std::optional<std::string> do_get(const std::string& key) override {
    std::lock_guard lock(mutex_);
    auto it = map_.find(key);
    if (it == map_.end()) return std::nullopt;
    return it->second.json;
  }
  void do_set(const std::string& key, std::string_view json,
              const StoredOptions& options) override {
    std::lock_guard lock(mutex_);
    last_options = options;
    map_[key] = StoredEntry{key, std::string(json), options.metadata, options.expires_at};
  }
  void do_remove(const std::string& key) override {
    std::lock_guard lock(mutex_);
    map_.erase(key);
  }
  bool do_swap(const std::string&, std::optional<std::string_view>, std::optional<std::string_view>,
               const StoredOptions&) override {
    return false;
  }
  std::vector<StoredEntry> do_list(const kvstore::KeyRange& range, std::size_t limit) override {
    std::lock_guard lock(mutex_);
    ++list_calls;
    std::vector<StoredEntry> page;
    for (auto it = map_.lower_bound(range.begin);
         it != map_.end() && page.size() < limit && (!range.end || it->first < *range.end); ++it) {
      page.push_back(it->second);
    }
    return page;
  }

  StoredOptions last_options;
  int list_calls = 0;

 private:
  std::mutex mutex_;
  std::map<std::string, StoredEntry> map_;
};

struct Fixture {
  RecordingDriver* driver = nullptr;
  std::unique_ptr<kvstore::KvStore> store;
  Fixture() {
    auto owned = std::make_unique<RecordingDriver>();
    driver = owned.get();
    store = std::make_unique<kvstore::KvStore>(std::move(owned));
  }
};

}  // namespace

TEST_CASE("the driver gets metadata as compact text and expires_at in whole milliseconds",
          "[unit][entry]") {
  Fixture f;
  SetOptions options;
  options.metadata = Value::parse(R"({ "b" : 1, "a" : [ true ] })");
  const Clock::time_point at =
      Clock::now() + std::chrono::hours(1) + std::chrono::microseconds(1500);
  options.expires_at = at;
  f.store->set({"k"}, 1, options);
  const StoredOptions& got = f.driver->last_options;
  REQUIRE(got.metadata.has_value());
  CHECK(*got.metadata == R"({"a":[true],"b":1})");
  CHECK_FALSE(got.ttl.has_value());
  REQUIRE(got.expires_at.has_value());
  CHECK(*got.expires_at == std::chrono::floor<std::chrono::milliseconds>(at));
  CHECK(got.expires_at->time_since_epoch() % std::chrono::milliseconds(1) ==
        Clock::duration::zero());
  CHECK(got.expires());

  f.store->set({"k"}, 2, {std::chrono::seconds(5)});
  CHECK(f.driver->last_options.ttl == std::chrono::milliseconds(5000));
  CHECK_FALSE(f.driver->last_options.expires_at.has_value());
  CHECK_FALSE(f.driver->last_options.metadata.has_value());

  f.store->set({"k"}, 3);
  CHECK_FALSE(f.driver->last_options.expires());
}

TEST_CASE("the default do_get_entry finds exactly the key, not a key that extends it",
          "[unit][entry]") {
  Fixture f;
  SetOptions options;
  options.metadata = Value("m");
  f.store->set({"a", "b"}, "extension", options);
  f.store->set({"a", ""}, "empty component");
  f.store->set({"ab"}, "lookalike");
  CHECK_FALSE(f.store->get_entry({"a"}).has_value());

  f.store->set({"a"}, "exact");
  auto entry = f.store->get_entry({"a"});
  REQUIRE(entry.has_value());
  CHECK(entry->key == KvKey{"a"});
  CHECK(entry->value == "exact");
  CHECK_FALSE(entry->metadata.has_value());

  auto extension = f.store->get_entry({"a", "b"});
  REQUIRE(extension.has_value());
  CHECK(extension->metadata == Value("m"));
  CHECK(f.store->get_entry({"a", ""})->value == "empty component");
}

TEST_CASE("the default do_list_keys lists the keys through do_list", "[unit][entry]") {
  Fixture f;
  for (int i = 0; i < 5; ++i) f.store->set({"p", std::to_string(i)}, std::string(100, 'v'));
  std::vector<KvKey> keys;
  for (const kvstore::KeyEntry& entry : f.store->list_keys({"p"})) keys.push_back(entry.key);
  CHECK(keys.size() == 5);
  CHECK(f.driver->list_calls >= 1);
}

TEST_CASE("the observer sees get_entry and list_keys pages as their own operations",
          "[unit][entry]") {
  struct Recorder final : kvstore::Observer {
    std::vector<kvstore::Operation> seen;
    void on_call(const kvstore::CallRecord& call) noexcept override {
      seen.push_back(call.operation);
    }
  };
  Fixture f;
  auto recorder = std::make_shared<Recorder>();
  f.store->set({"o"}, 1);
  f.store->set_observer(recorder);
  (void)f.store->get_entry({"o"});
  (void)f.store->list_keys({"o"}).to_vector();
  REQUIRE(recorder->seen.size() == 2);
  CHECK(recorder->seen[0] == kvstore::Operation::get_entry);
  CHECK(recorder->seen[1] == kvstore::Operation::list_keys_page);
  CHECK(kvstore::to_string(kvstore::Operation::list_keys_page) == "list_keys_page");
}
