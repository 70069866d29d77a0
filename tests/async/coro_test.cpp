// <kvstore/coro.h> from a hand-written C++20 task type: the kind of
// coroutine (Drogon, cppcoro, folly) that accepts foreign awaitables.
#include <atomic>
#include <coroutine>
#include <cstdio>
#include <exception>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include <catch2/catch.hpp>

#include <kvstore/coro.h>
#include <kvstore/kvstore.h>

using namespace std::chrono_literals;
using kvstore::ErrorCode;
using kvstore::KvKey;
using kvstore::Value;

namespace {

// An eagerly started task whose outcome a test thread waits for.
struct SyncTask {
  struct promise_type {
    std::promise<void> done;
    SyncTask get_return_object() { return SyncTask{done.get_future()}; }
    std::suspend_never initial_suspend() noexcept { return {}; }
    std::suspend_never final_suspend() noexcept { return {}; }
    void return_void() { done.set_value(); }
    void unhandled_exception() { done.set_exception(std::current_exception()); }
  };
  std::future<void> finished;
  // Rethrows what the coroutine threw; fails if it has not finished within
  // a minute (a callback that never came).
  void wait() {
    REQUIRE(finished.wait_for(std::chrono::seconds(60)) == std::future_status::ready);
    finished.get();
  }
};

struct TempDb {
  TempDb() {
    static std::atomic<int> counter{0};
    path = std::string(KVSTORE_TEST_TMP_DIR) + "/coro-" + std::to_string(::getpid()) + "-" +
           std::to_string(counter++) + ".db";
    std::remove(path.c_str());
  }
  ~TempDb() {
    for (const char* suffix : {"", "-wal", "-shm", "-journal"})
      std::remove((path + suffix).c_str());
  }
  std::string path;
};

// Built outside the coroutines: GCC 12 miscompiles braced JSON literals in
// a coroutine frame ("array used as initializer").
Value object_ab() { return Value::parse(R"({"a":1,"b":2})"); }
kvstore::CallOptions zero_timeout() {
  kvstore::CallOptions options;
  options.timeout = std::chrono::milliseconds(0);
  return options;
}

// Keys are named before co_await: GCC 12 rejects a braced initializer list
// of strings inside a co_await expression ("array used as initializer").
SyncTask every_call(kvstore::KvStore& store, std::vector<std::string>& steps,
                    std::thread::id caller, int& resumed_on_caller) {
  auto track = [&] {
    if (std::this_thread::get_id() == caller) ++resumed_on_caller;
  };
  const KvKey c1{"c", "1"};
  const KvKey c2{"c", "2"};
  const KvKey invalid{};
  const KvKey c{"c"};
  co_await kvstore::co_set(store, c1, object_ab());
  track();
  std::optional<Value> v = co_await kvstore::co_get(store, c1);
  track();
  steps.push_back(v ? v->dump() : "absent");
  co_await kvstore::co_set_json(store, c2, R"({"b":2,"a":1})", kvstore::SetOptions{1h});
  std::optional<std::string> text = co_await kvstore::co_get_json(store, c2);
  steps.push_back(text.value_or("absent"));
  bool swapped = co_await kvstore::co_cas(store, c2, object_ab(), Value(9));
  steps.push_back(swapped ? "swapped" : "kept");
  swapped = co_await kvstore::co_cas(store, c2, Value(1), std::nullopt);
  steps.push_back(swapped ? "swapped" : "kept");
  co_await kvstore::co_remove(store, c1);
  steps.push_back((co_await kvstore::co_get(store, c1)) ? "present" : "absent");
  try {
    co_await kvstore::co_get(store, invalid);
    steps.push_back("no error");
  } catch (const kvstore::Error& e) {
    steps.push_back(std::string(kvstore::to_string(e.code())));
  }
  try {
    co_await kvstore::co_get(store, c, zero_timeout());
    steps.push_back("no error");
  } catch (const kvstore::Error& e) {
    steps.push_back(std::string(kvstore::to_string(e.code())));
  }
  track();
}

SyncTask pull_all(kvstore::AsyncListCursor& cursor, std::vector<int>& seen, bool& ordered) {
  while (auto entry = co_await kvstore::co_next(cursor)) {
    char name[8];
    std::snprintf(name, sizeof name, "%04d", entry->value.get<int>());
    if (entry->key != KvKey{"l", name}) ordered = false;
    seen.push_back(entry->value.get<int>());
  }
}

}  // namespace

TEST_CASE("co_* awaiters run every call from a foreign coroutine", "[coro]") {
  TempDb db;
  for (const std::string& url : {std::string("memory:"), "sqlite:" + db.path}) {
    INFO(url);
    auto store = kvstore::open(url);
    std::vector<std::string> steps;
    int resumed_on_caller = 0;
    every_call(*store, steps, std::this_thread::get_id(), resumed_on_caller).wait();
    CHECK(steps == std::vector<std::string>{R"({"a":1,"b":2})", R"({"b":2,"a":1})", "swapped",
                                            "kept", "absent", "invalid_argument",
                                            "invalid_argument"});
    // The coroutine resumes on a kvstore thread, never inside co_await's call.
    CHECK(resumed_on_caller == 0);
    CHECK(store->get({"c", "2"}) == Value(9));
  }
}

TEST_CASE("co_next pages through 1000 entries", "[coro]") {
  TempDb db;
  for (const std::string& url :
       {std::string("memory:?list_page_size=7"), "sqlite:" + db.path + "?list_page_size=7"}) {
    INFO(url);
    auto store = kvstore::open(url);
    for (int i = 0; i < 1000; ++i) {
      char name[8];
      std::snprintf(name, sizeof name, "%04d", i);
      store->set({"l", name}, Value(i));
    }
    store->set({"m"}, Value(0));
    auto cursor = store->async_list({"l"});
    std::vector<int> seen;
    bool ordered = true;
    pull_all(cursor, seen, ordered).wait();
    CHECK(ordered);
    REQUIRE(seen.size() == 1000);
    for (int i = 0; i < 1000; ++i) {
      if (seen[i] != i) FAIL("entry " << i << " is " << seen[i]);
    }
  }
}
