// The async callback core without a server: where callbacks run, deadlines,
// cancellation, back-pressure, cursors and a store destroyed with calls
// pending. A gated driver (an in-process ordered map whose calls wait for
// the test to open a gate) makes "a call still in the backend" exact.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <map>
#include <mutex>
#include <thread>

#include <kvstore/driver.h>
#include <kvstore/kvstore.h>

using namespace std::chrono_literals;
using kvstore::ErrorCode;
using kvstore::Result;
using kvstore::Value;

namespace {

// Blocks every call until open() while `closed`; counts the calls that reached it.
class Gate {
 public:
  void close() {
    std::lock_guard lock(mutex_);
    open_ = false;
  }
  // Lets `passes` more calls through, then holds the rest.
  void close_after(int passes) {
    std::lock_guard lock(mutex_);
    open_ = false;
    allowance_ = passes;
  }
  void open() {
    {
      std::lock_guard lock(mutex_);
      open_ = true;
    }
    changed_.notify_all();
  }
  void pass() {
    std::unique_lock lock(mutex_);
    ++arrived_;
    changed_.notify_all();
    if (!open_ && allowance_ > 0) {
      --allowance_;
      return;
    }
    changed_.wait(lock, [&] { return open_; });
  }
  // Waits until `n` calls have reached the gate.
  bool wait_arrived(int n) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, 5s, [&] { return arrived_ >= n; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  bool open_ = true;
  int arrived_ = 0;
  int allowance_ = 0;
};

class GatedDriver final : public kvstore::Driver {
 public:
  explicit GatedDriver(std::shared_ptr<Gate> gate)
      : Driver("gated", kvstore::Capabilities{}), gate_(std::move(gate)) {}

  std::optional<std::string> do_get(const std::string& key) override {
    gate_->pass();
    std::lock_guard lock(mutex_);
    auto it = map_.find(key);
    if (it == map_.end()) return std::nullopt;
    return it->second;
  }
  void do_set(const std::string& key, std::string_view json, const kvstore::StoredOptions&) override {
    gate_->pass();
    std::lock_guard lock(mutex_);
    map_[key] = std::string(json);
  }
  void do_remove(const std::string& key) override {
    gate_->pass();
    std::lock_guard lock(mutex_);
    map_.erase(key);
  }
  bool do_swap(const std::string& key, std::optional<std::string_view> expected,
               std::optional<std::string_view> desired, const kvstore::StoredOptions&) override {
    gate_->pass();
    std::lock_guard lock(mutex_);
    auto it = map_.find(key);
    const bool present = it != map_.end();
    if (expected ? (!present || it->second != *expected) : present) return false;
    if (desired) {
      map_[key] = std::string(*desired);
    } else if (present) {
      map_.erase(it);
    }
    return true;
  }
  std::vector<kvstore::StoredEntry> do_list(const kvstore::KeyRange& range,
                                            std::size_t limit) override {
    gate_->pass();
    std::lock_guard lock(mutex_);
    std::vector<kvstore::StoredEntry> page;
    for (auto it = map_.lower_bound(range.begin);
         it != map_.end() && (!range.end || it->first < *range.end) && page.size() < limit; ++it) {
      page.push_back({it->first, it->second});
    }
    return page;
  }

 private:
  std::shared_ptr<Gate> gate_;
  std::mutex mutex_;
  std::map<std::string, std::string> map_;
};

std::unique_ptr<kvstore::KvStore> gated_store(std::shared_ptr<Gate> gate,
                                              kvstore::StoreSettings settings = {}) {
  return std::make_unique<kvstore::KvStore>(std::make_unique<GatedDriver>(std::move(gate)),
                                            settings);
}

// Collects one Result and where it ran.
template <class T>
struct Outcome {
  std::promise<Result<T>> promise;
  std::future<Result<T>> future = promise.get_future();
  std::atomic<int> calls{0};
  std::thread::id thread;

  kvstore::Callback<T> callback() {
    return [this](Result<T> r) {
      thread = std::this_thread::get_id();
      if (++calls == 1) promise.set_value(std::move(r));
    };
  }
  Result<T> get() {
    REQUIRE(future.wait_for(10s) == std::future_status::ready);
    return future.get();
  }
};

}  // namespace

TEST_CASE("async: callbacks run once, never inside the initiating call", "[async]") {
  auto store = kvstore::open("memory:");
  Outcome<void> set;
  store->async_set({"a"}, Value{{"x", 1}}, set.callback());
  CHECK(set.get().has_value());
  CHECK(set.thread != std::this_thread::get_id());  // a store thread, not inside the call

  Outcome<std::optional<Value>> get;
  store->async_get({"a"}, get.callback());
  CHECK(get.get().value() == Value{{"x", 1}});
  Outcome<std::optional<std::string>> text;
  store->async_get_json({"a"}, text.callback());
  CHECK(text.get().value() == std::string(R"({"x":1})"));
  Outcome<bool> cas;
  store->async_cas({"a"}, Value{{"x", 1.0}}, Value(2), cas.callback());  // JSON equality: 1 == 1.0
  CHECK(cas.get().value());
  CHECK(store->get({"a"}) == Value(2));
  std::this_thread::sleep_for(20ms);
  CHECK(set.calls == 1);
  CHECK(get.calls == 1);
}

TEST_CASE("async: invalid input completes through the callback, on another thread", "[async]") {
  auto store = kvstore::open("memory:");
  struct Case {
    const char* name;
    std::function<void(kvstore::Callback<void>)> start;
  };
  std::vector<Case> cases = {
      {"empty key", [&](auto done) { store->async_set({}, 1, std::move(done)); }},
      {"bad json", [&](auto done) { store->async_set_json({"k"}, "{", std::move(done)); }},
      {"ttl", [&](auto done) { store->async_set({"k"}, 1, {-1ms}, std::move(done)); }},
      {"timeout",
       [&](auto done) {
         store->async_remove({"k"}, std::move(done), {0ms, {}});
       }},
  };
  for (auto& c : cases) {
    INFO(c.name);
    Outcome<void> outcome;
    c.start(outcome.callback());
    Result<void> r = outcome.get();
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code() == ErrorCode::invalid_argument);
    CHECK(r.error().driver() == "memory");
    CHECK(outcome.thread != std::this_thread::get_id());  // not inside the call
    CHECK_THROWS_AS(r.value(), kvstore::Error);
  }
  CHECK(store->get({"k"}) == std::nullopt);  // nothing was written
}

TEST_CASE("async: a call past its deadline completes with timeout at the deadline", "[async]") {
  auto gate = std::make_shared<Gate>();
  auto store = gated_store(gate);
  gate->close();
  const auto start = std::chrono::steady_clock::now();
  Outcome<void> set;
  store->async_set({"k"}, 1, set.callback(), {150ms, {}});
  Result<void> r = set.get();
  const auto took = std::chrono::steady_clock::now() - start;
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code() == ErrorCode::timeout);
  CHECK(r.error().retryable());
  CHECK(r.error().outcome_unknown());  // the write had reached the backend
  CHECK(took >= 150ms);
  CHECK(took < 2s);
  gate->open();
  // The late backend result is dropped: exactly one completion.
  std::this_thread::sleep_for(50ms);
  CHECK(set.calls == 1);
  CHECK(store->get({"k"}) == Value(1));
}

TEST_CASE("async: cancellation before and after the request is sent", "[async]") {
  auto gate = std::make_shared<Gate>();
  kvstore::StoreSettings one_worker;
  one_worker.async_workers = 1;
  auto store = gated_store(gate, one_worker);

  SECTION("stop requested before the call") {
    std::stop_source stop;
    stop.request_stop();
    Outcome<void> set;
    store->async_set({"k"}, 1, set.callback(), {std::nullopt, stop.get_token()});
    Result<void> r = set.get();
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code() == ErrorCode::cancelled);
    CHECK_FALSE(r.error().outcome_unknown());
    CHECK(store->get({"k"}) == std::nullopt);
  }
  SECTION("queued behind a busy worker: cancelled, and never run") {
    gate->close();
    Outcome<void> first;
    store->async_set({"first"}, 1, first.callback());
    REQUIRE(gate->wait_arrived(1));  // the only worker is held in the backend
    std::stop_source stop;
    Outcome<void> queued;
    store->async_set({"queued"}, 1, queued.callback(), {std::nullopt, stop.get_token()});
    stop.request_stop();
    Result<void> r = queued.get();
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code() == ErrorCode::cancelled);
    CHECK_FALSE(r.error().outcome_unknown());
    gate->open();
    CHECK(first.get().has_value());
    CHECK(store->get({"queued"}) == std::nullopt);
  }
  SECTION("in the backend: cancelled at once, outcome unknown") {
    gate->close();
    std::stop_source stop;
    Outcome<bool> cas;
    store->async_cas({"k"}, std::nullopt, Value(1), cas.callback(),
                     {std::nullopt, stop.get_token()});
    REQUIRE(gate->wait_arrived(1));
    stop.request_stop();
    Result<bool> r = cas.get();
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code() == ErrorCode::cancelled);
    CHECK(r.error().outcome_unknown());
    gate->open();
  }
}

TEST_CASE("async: a full queue fails fast with a retryable limit_exceeded", "[async]") {
  auto gate = std::make_shared<Gate>();
  kvstore::StoreSettings tiny;
  tiny.async_workers = 1;
  tiny.async_queue = 2;
  auto store = gated_store(gate, tiny);
  gate->close();
  std::vector<std::unique_ptr<Outcome<void>>> outcomes;
  for (int i = 0; i < 5; ++i) {
    outcomes.push_back(std::make_unique<Outcome<void>>());
    store->async_set({"k", std::to_string(i)}, i, outcomes.back()->callback());
    if (i == 0) REQUIRE(gate->wait_arrived(1));
  }
  // One running, two queued, two refused.
  for (int i = 3; i < 5; ++i) {
    Result<void> r = outcomes[static_cast<std::size_t>(i)]->get();
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code() == ErrorCode::limit_exceeded);
    CHECK(r.error().retryable());
  }
  gate->open();
  for (int i = 0; i < 3; ++i) CHECK(outcomes[static_cast<std::size_t>(i)]->get().has_value());
}

TEST_CASE("async: destroying a store with 1000 calls pending completes each exactly once",
          "[async][concurrency]") {
  auto gate = std::make_shared<Gate>();
  kvstore::StoreSettings settings;
  settings.async_workers = 4;
  auto store = gated_store(gate, settings);
  gate->close();
  constexpr int kCalls = 1000;
  std::atomic<int> completions{0};
  std::atomic<int> closed{0};
  std::vector<std::atomic<int>> per_call(kCalls);
  for (int i = 0; i < kCalls; ++i) {
    store->async_set({"k", std::to_string(i)}, i, [&, i](Result<void> r) {
      ++per_call[static_cast<std::size_t>(i)];
      ++completions;
      if (!r && r.error().code() == ErrorCode::unavailable && !r.error().retryable()) ++closed;
    });
  }
  REQUIRE(gate->wait_arrived(4));
  std::thread opener([&] {
    // Once every call has completed, let the four in the backend return so
    // that the destructor can join its workers.
    const auto give_up = std::chrono::steady_clock::now() + 10s;
    while (completions < kCalls && std::chrono::steady_clock::now() < give_up) {
      std::this_thread::sleep_for(1ms);
    }
    gate->open();
  });
  store.reset();
  opener.join();
  CHECK(completions == kCalls);
  CHECK(closed == kCalls);  // even the four in the backend: the store went first
  for (auto& n : per_call) CHECK(n == 1);
}

TEST_CASE("async: a callback may destroy the store", "[async]") {
  auto store = std::shared_ptr<kvstore::KvStore>(kvstore::open("memory:"));
  std::promise<void> done;
  kvstore::KvStore* raw = store.get();
  auto holder = std::make_shared<std::shared_ptr<kvstore::KvStore>>(std::move(store));
  raw->async_set({"k"}, 1, [holder, &done](Result<void>) mutable {
    holder->reset();  // the last owner: ~KvStore runs on a store thread
    done.set_value();
  });
  holder.reset();
  CHECK(done.get_future().wait_for(5s) == std::future_status::ready);
}

TEST_CASE("async: cursor pulls pages lazily, at most one ahead, in order", "[async][list]") {
  auto store = kvstore::open("memory:?list_page_size=3");
  for (int i = 0; i < 20; ++i) {
    char name[8];
    std::snprintf(name, sizeof name, "%02d", i);
    store->set({"p", name}, i);
  }
  store->set({"q"}, 0);
  auto cursor = store->async_list({"p"});
  std::vector<int> seen;
  for (;;) {
    Outcome<std::optional<kvstore::Entry>> next;
    cursor.next(next.callback());
    auto entry = next.get().value();
    if (!entry) break;
    seen.push_back(entry->value.get<int>());
  }
  REQUIRE(seen.size() == 20);
  for (int i = 0; i < 20; ++i) CHECK(seen[static_cast<std::size_t>(i)] == i);

  auto limited =
      store->async_list_json({"p"}, {.start_after = kvstore::KvKey{"p", "04"}, .limit = 4});
  std::vector<std::string> texts;
  for (;;) {
    Outcome<std::optional<kvstore::JsonEntry>> next;
    limited.next(next.callback());
    auto entry = next.get().value();
    if (!entry) break;
    texts.push_back(entry->json);
  }
  CHECK(texts == std::vector<std::string>{"5", "6", "7", "8"});
}

TEST_CASE("async: a second next() while one is pending is a clear error", "[async][list]") {
  auto gate = std::make_shared<Gate>();
  auto store = gated_store(gate);
  store->set({"a"}, 1);
  gate->close();
  auto cursor = store->async_list();
  Outcome<std::optional<kvstore::Entry>> first;
  Outcome<std::optional<kvstore::Entry>> second;
  cursor.next(first.callback());
  REQUIRE(gate->wait_arrived(2));  // set + the page fetch
  cursor.next(second.callback());
  Result<std::optional<kvstore::Entry>> r = second.get();
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code() == ErrorCode::invalid_argument);
  gate->open();
  CHECK(first.get().value()->key == kvstore::KvKey{"a"});
}

TEST_CASE("async: a cursor destroyed mid-prefetch and an invalid prefix", "[async][list]") {
  auto gate = std::make_shared<Gate>();
  auto store = gated_store(gate, kvstore::StoreSettings{std::nullopt, 2, {}, {}, {}});
  for (int i = 0; i < 6; ++i) store->set({"k", std::to_string(i)}, i);
  gate->close_after(1);  // the first page passes; the prefetch of the second is held
  {
    auto cursor = store->async_list({"k"});
    Outcome<std::optional<kvstore::Entry>> first;
    cursor.next(first.callback());
    CHECK(first.get().value()->key == kvstore::KvKey{"k", "0"});
    REQUIRE(gate->wait_arrived(6 + 2));  // six sets, the first page, the prefetch
  }                                      // cursor destroyed with its prefetch in the backend
  gate->open();
  std::this_thread::sleep_for(50ms);
  auto bad = store->async_list({"\xff"});
  Outcome<std::optional<kvstore::Entry>> next;
  bad.next(next.callback());
  Result<std::optional<kvstore::Entry>> r = next.get();
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code() == ErrorCode::invalid_argument);
  CHECK(r.error().driver() == "gated");
}

TEST_CASE("async: sync and async callers race on one counter", "[async][concurrency]") {
  auto store = kvstore::open("memory:");
  store->set({"n"}, 0);
  constexpr int kThreads = 8;
  constexpr int kRounds = 50;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < kRounds; ++round) {
        for (;;) {
          const int current = store->get({"n"})->get<int>();
          bool swapped;
          if (t % 2 == 0) {
            swapped = store->cas({"n"}, Value(current), Value(current + 1));
          } else {
            std::promise<Result<bool>> p;
            auto f = p.get_future();
            store->async_cas({"n"}, Value(current), Value(current + 1),
                             [&p](Result<bool> r) { p.set_value(std::move(r)); });
            swapped = f.get().value();
          }
          if (swapped) break;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(store->get({"n"}) == Value(kThreads * kRounds));
}

TEST_CASE("async: request_timeout, async_workers and async_queue are checked at open", "[async]") {
  for (const char* bad : {"async_workers=0", "async_workers=1025", "async_queue=0",
                          "async_queue=1000001", "request_timeout=0ms", "request_timeout=2h"}) {
    INFO(bad);
    try {
      kvstore::open(std::string("memory:?") + bad);
      FAIL("accepted");
    } catch (const kvstore::Error& e) {
      CHECK(e.code() == ErrorCode::invalid_argument);
      CHECK(e.driver() == "memory");
    }
  }
  // request_timeout is the default deadline of every async call.
  auto gate = std::make_shared<Gate>();
  kvstore::StoreSettings settings;
  settings.request_timeout = 100ms;
  auto store = gated_store(gate, settings);
  gate->close();
  Outcome<std::optional<Value>> get;
  const auto start = std::chrono::steady_clock::now();
  store->async_get({"k"}, get.callback());
  Result<std::optional<Value>> r = get.get();
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code() == ErrorCode::timeout);
  CHECK_FALSE(r.error().outcome_unknown());  // a read
  CHECK(std::chrono::steady_clock::now() - start >= 100ms);
  gate->open();
}
