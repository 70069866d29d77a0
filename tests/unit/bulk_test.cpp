// Bulk calls in the core: what reaches the driver (one batch, repeated keys
// folded, nothing for an empty call), the byte limit, the observer, and a
// driver that answers the wrong number of values.
#include <catch2/catch.hpp>

#include <future>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include <kvstore/driver.h>
#include <kvstore/kvstore.h>

using kvstore::ErrorCode;
using kvstore::KvKey;
using kvstore::SetEntry;
using kvstore::Value;

namespace {

// A map that records the batches it is handed.
class BatchDriver final : public kvstore::Driver {
 public:
  BatchDriver() : Driver("batch", kvstore::Capabilities{}) {}

  std::optional<std::string> do_get(const std::string& key) override {
    std::lock_guard lock(mutex_);
    ++single_calls;
    auto it = map_.find(key);
    return it == map_.end() ? std::nullopt : std::optional<std::string>(it->second);
  }
  void do_set(const std::string& key, std::string_view json, const kvstore::StoredOptions&) override {
    std::lock_guard lock(mutex_);
    ++single_calls;
    map_[key] = std::string(json);
  }
  void do_remove(const std::string& key) override {
    std::lock_guard lock(mutex_);
    ++single_calls;
    map_.erase(key);
  }
  bool do_swap(const std::string&, std::optional<std::string_view>, std::optional<std::string_view>,
               const kvstore::StoredOptions&) override {
    return false;
  }
  std::vector<kvstore::StoredEntry> do_list(const kvstore::KeyRange&, std::size_t) override {
    return {};
  }

  std::vector<std::optional<std::string>> do_get_many(
      const std::vector<std::string>& keys) override {
    std::lock_guard lock(mutex_);
    batches.push_back(keys);
    std::vector<std::optional<std::string>> texts;
    for (const std::string& key : keys) {
      auto it = map_.find(key);
      texts.push_back(it == map_.end() ? std::nullopt : std::optional<std::string>(it->second));
    }
    if (answer_one_short && !texts.empty()) texts.pop_back();
    return texts;
  }
  void do_set_many(const std::vector<kvstore::StoredWrite>& writes) override {
    std::lock_guard lock(mutex_);
    std::vector<std::string> keys;
    for (const auto& write : writes) {
      keys.push_back(write.key);
      map_[write.key] = write.json;
    }
    batches.push_back(keys);
  }
  void do_remove_many(const std::vector<std::string>& keys) override {
    std::lock_guard lock(mutex_);
    batches.push_back(keys);
    for (const std::string& key : keys) map_.erase(key);
  }

  // Read after the store's calls returned.
  std::vector<std::vector<std::string>> batches;
  int single_calls = 0;
  bool answer_one_short = false;

 private:
  std::mutex mutex_;
  std::map<std::string, std::string> map_;
};

class Recorder final : public kvstore::Observer {
 public:
  void on_call(const kvstore::CallRecord& call) noexcept override {
    std::lock_guard lock(mutex_);
    seen.push_back({call.operation, call.bytes, call.error});
  }
  struct Seen {
    kvstore::Operation operation;
    std::size_t bytes;
    std::optional<ErrorCode> error;
  };
  std::vector<Seen> seen;

 private:
  std::mutex mutex_;
};

template <class T, class Start>
kvstore::Result<T> wait_for(Start&& start) {
  std::promise<kvstore::Result<T>> promise;
  start([&promise](kvstore::Result<T> result) { promise.set_value(std::move(result)); });
  return promise.get_future().get();
}

}  // namespace

TEST_CASE("bulk: the driver gets one batch of distinct keys, and nothing for an empty call",
          "[bulk]") {
  auto owned = std::make_unique<BatchDriver>();
  BatchDriver& driver = *owned;
  kvstore::KvStore store(std::move(owned));

  store.set_many({{{"a"}, 1}, {{"b"}, 2}, {{"a"}, 3}});
  REQUIRE(driver.batches.size() == 1);
  CHECK(driver.batches[0] ==
        std::vector<std::string>{kvstore::encode_key({"a"}), kvstore::encode_key({"b"})});
  const auto values = store.get_many({{"b"}, {"a"}, {"b"}, {"missing"}});
  REQUIRE(driver.batches.size() == 2);
  CHECK(driver.batches[1].size() == 3);  // b, a, missing: asked once each
  CHECK(values == std::vector<std::optional<Value>>{2, 3, 2, std::nullopt});
  store.remove_many({{"a"}, {"a"}});
  REQUIRE(driver.batches.size() == 3);
  CHECK(driver.batches[2] == std::vector<std::string>{kvstore::encode_key({"a"})});

  store.set_many({});
  CHECK(store.get_many({}).empty());
  store.remove_many({});
  CHECK(wait_for<std::vector<std::optional<Value>>>(
            [&](auto done) { store.async_get_many({}, std::move(done)); })
            .value()
            .empty());
  CHECK(driver.batches.size() == 3);
  CHECK(driver.single_calls == 0);
}

TEST_CASE("bulk: a driver answering the wrong number of values is an internal error", "[bulk]") {
  auto owned = std::make_unique<BatchDriver>();
  owned->answer_one_short = true;
  kvstore::KvStore store(std::move(owned));
  try {
    (void)store.get_many({{"a"}, {"b"}});
    FAIL("a short answer was accepted");
  } catch (const kvstore::Error& e) {
    CHECK(e.code() == ErrorCode::internal);
    CHECK(e.driver() == "batch");
  }
  auto result = wait_for<std::vector<std::optional<Value>>>([&](auto done) {
    store.async_get_many({{"a"}, {"b"}}, std::move(done));
  });
  REQUIRE_FALSE(result.has_value());
  CHECK(result.error().code() == ErrorCode::internal);
}

TEST_CASE("bulk: set_many writes at most kMaxBulkBytes of JSON per call", "[bulk]") {
  auto store = kvstore::open("memory:");
  const std::size_t each = kvstore::kDefaultMaxValueBytes - 2;  // 2: the string's quotes
  std::vector<SetEntry> entries;
  for (std::size_t total = 0; total <= kvstore::kMaxBulkBytes; total += each + 2) {
    entries.push_back({{"big", std::to_string(entries.size())}, std::string(each, 'b')});
  }
  try {
    store->set_many(entries);
    FAIL("set_many took more than kMaxBulkBytes");
  } catch (const kvstore::Error& e) {
    CHECK(e.code() == ErrorCode::limit_exceeded);
    CHECK(std::string(e.message()).find(std::to_string(kvstore::kMaxBulkBytes)) !=
          std::string::npos);
  }
  // Serializing 100 MiB is slow under a sanitizer: a deadline that cannot
  // pass first, so that the answer is the limit, not the timeout.
  kvstore::CallOptions patient;
  patient.timeout = std::chrono::hours(1);
  auto result = wait_for<void>(
      [&](auto done) { store->async_set_many(std::move(entries), std::move(done), patient); });
  REQUIRE_FALSE(result.has_value());
  CHECK(result.error().code() == ErrorCode::limit_exceeded);
  CHECK(store->list({"big"}).to_vector().empty());
}

TEST_CASE("bulk: the observer sees each bulk call with the bytes it moved", "[bulk][observer]") {
  auto store = kvstore::open("memory:");
  auto recorder = std::make_shared<Recorder>();
  store->set_observer(recorder);
  store->set_many({{{"a"}, "xyz"}, {{"b"}, 12}});  // "xyz" with quotes: 5 bytes, 12: 2
  (void)store->get_many({{"a"}, {"missing"}});
  store->remove_many({{"a"}, {"b"}});
  CHECK_THROWS_AS(store->get_many({{"a"}, {}}), kvstore::Error);
  REQUIRE(recorder->seen.size() == 4);
  CHECK(recorder->seen[0].operation == kvstore::Operation::set_many);
  CHECK(recorder->seen[0].bytes == 7);
  CHECK(recorder->seen[1].operation == kvstore::Operation::get_many);
  CHECK(recorder->seen[1].bytes == 5);
  CHECK(recorder->seen[2].operation == kvstore::Operation::remove_many);
  CHECK(recorder->seen[3].error == ErrorCode::invalid_argument);
  CHECK(kvstore::to_string(kvstore::Operation::set_many) == "set_many");
}
