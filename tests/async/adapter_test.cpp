// The Asio adapters, one body for both: compiled once against Boost.Asio
// (KVSTORE_TEST_BOOST_ASIO) and once against standalone asio.
#include <utility>  // before Boost 1.74's awaitable.hpp (GCC 12)

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <functional>
#include <future>
#include <latch>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include <sqlite3.h>
#include <catch2/catch.hpp>

#include <kvstore/kvstore.h>

#if defined(KVSTORE_TEST_BOOST_ASIO)
#include <kvstore/boost_asio.h>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
namespace net = boost::asio;
namespace kva = kvstore::boost_asio;
#if defined(BOOST_ASIO_HAS_CO_AWAIT)
#define KVSTORE_TEST_CO_AWAIT 1
#endif
#if BOOST_ASIO_VERSION >= 102200
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/experimental/deferred.hpp>
#define KVSTORE_TEST_SLOTS 1
#endif
#else
#include <kvstore/asio.h>
#include <asio/bind_cancellation_slot.hpp>
#include <asio/bind_executor.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/deferred.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/use_future.hpp>
namespace net = ::asio;
namespace kva = kvstore::asio;
#if defined(ASIO_HAS_CO_AWAIT)
#define KVSTORE_TEST_CO_AWAIT 1
#endif
#define KVSTORE_TEST_SLOTS 1
#endif

#if !defined(KVSTORE_TEST_CO_AWAIT)
#pragma message( \
    "this compiler has no co_await support in asio (e.g. clang 14 with libstdc++): the use_awaitable tests are compiled out")
#endif

using namespace std::chrono_literals;
using kvstore::ErrorCode;
using kvstore::KvKey;
using kvstore::Value;

namespace {

// A fresh SQLite file per call, removed by the destructor.
struct TempDb {
  TempDb() {
    static std::atomic<int> counter{0};
    path = std::string(KVSTORE_TEST_TMP_DIR) + "/adapter-" + std::to_string(::getpid()) + "-" +
           std::to_string(counter++) + ".db";
    std::remove(path.c_str());
  }
  ~TempDb() {
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
      std::remove((path + suffix).c_str());
    }
  }
  std::string path;
};

// The drivers these tests run on: memory and a SQLite file.
std::vector<std::string> urls(const TempDb& db, const std::string& params = "") {
  return {"memory:" + (params.empty() ? "" : "?" + params),
          "sqlite:" + db.path + (params.empty() ? "" : "?" + params)};
}

std::shared_ptr<kvstore::KvStore> open_shared(const std::string& url) {
  return std::shared_ptr<kvstore::KvStore>(kvstore::open(url));
}

ErrorCode code_of(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const kvstore::Error& error) {
    return error.code();
  }
}

const kvstore::Error& error_of(const std::exception_ptr& e, std::optional<kvstore::Error>& keep) {
  try {
    std::rethrow_exception(e);
  } catch (const kvstore::Error& error) {
    keep.emplace(error);
  }
  return *keep;
}

// Occupies the only worker of an async_workers=1 store until release():
// a core callback runs on the worker, and this one waits.
class WorkerBlocker {
 public:
  explicit WorkerBlocker(kvstore::KvStore& store) {
    store.async_get({"blocker"}, [this](kvstore::Result<std::optional<Value>>) {
      started_.count_down();
      release_.get_future().wait();
    });
    started_.wait();
  }
  ~WorkerBlocker() { release(); }
  void release() {
    if (!released_) release_.set_value();
    released_ = true;
  }

 private:
  std::latch started_{1};
  std::promise<void> release_;
  bool released_ = false;
};

kvstore::CallOptions timeout_options(std::chrono::milliseconds timeout) {
  kvstore::CallOptions options;
  options.timeout = timeout;
  return options;
}
kvstore::CallOptions stop_options(std::stop_token stop) {
  kvstore::CallOptions options;
  options.stop = std::move(stop);
  return options;
}

}  // namespace

TEST_CASE("every call completes through a plain callback", "[adapter]") {
  TempDb db;
  for (const std::string& url : urls(db)) {
    INFO(url);
    net::io_context io;
    kva::store kv(open_shared(url), io.get_executor());
    std::vector<std::string> steps;
    auto fail = [&](const char* step, std::exception_ptr e) {
      if (e) steps.push_back(std::string(step) + " failed");
    };
    kv.async_set({"a", "1"}, Value{{"n", 1}}, [&](std::exception_ptr e) {
      fail("set", e);
      kv.async_get({"a", "1"}, [&](std::exception_ptr e, std::optional<Value> v) {
        fail("get", e);
        steps.push_back(v ? v->dump() : "absent");
        kv.async_set_json(
            {"a", "2"}, R"({"b":2,  "a":1})", kvstore::SetOptions{}, [&](std::exception_ptr e) {
              fail("set_json", e);
              kv.async_get_json({"a", "2"}, [&](std::exception_ptr e,
                                                std::optional<std::string> t) {
                fail("get_json", e);
                steps.push_back(t.value_or("absent"));
                // JSON equality: the members in another order still match.
                kv.async_cas(
                    {"a", "2"}, Value{{"a", 1}, {"b", 2}}, Value(3),
                    [&](std::exception_ptr e, bool swapped) {
                      fail("cas", e);
                      steps.push_back(swapped ? "swapped" : "kept");
                      kv.async_cas(
                          {"a", "2"}, Value(4), Value(5), [&](std::exception_ptr e, bool swapped) {
                            fail("cas2", e);
                            steps.push_back(swapped ? "swapped" : "kept");
                            kv.async_remove({"a", "1"}, [&](std::exception_ptr e) {
                              fail("remove", e);
                              kv.async_get(
                                  {"a", "1"}, [&](std::exception_ptr e, std::optional<Value> v) {
                                    fail("get2", e);
                                    steps.push_back(v ? v->dump() : "absent");
                                    // Validation errors arrive through the handler.
                                    kv.async_get(
                                        KvKey{}, [&](std::exception_ptr e, std::optional<Value> v) {
                                          steps.push_back(
                                              e && code_of(e) == ErrorCode::invalid_argument && !v
                                                  ? "invalid"
                                                  : "no error");
                                        });
                                  });
                            });
                          });
                    });
              });
            });
      });
    });
    io.run();
    CHECK(steps == std::vector<std::string>{R"({"n":1})", R"({"b":2,  "a":1})", "swapped", "kept",
                                            "absent", "invalid"});
    CHECK(kv.kv()->get({"a", "2"}) == Value(3));
  }
}

TEST_CASE("every call completes through use_future", "[adapter]") {
  TempDb db;
  for (const std::string& url : urls(db)) {
    INFO(url);
    net::io_context io;
    auto guard = net::make_work_guard(io);
    std::thread runner([&] { io.run(); });
    kva::store kv(open_shared(url), io.get_executor());
    kv.async_set({"f", "1"}, Value("one"), kvstore::SetOptions{1h}, net::use_future).get();
    CHECK(kv.async_get({"f", "1"}, net::use_future).get() == Value("one"));
    kv.async_set_json({"f", "2"}, "[1,2]", net::use_future).get();
    CHECK(kv.async_get_json({"f", "2"}, net::use_future).get() == "[1,2]");
    CHECK(kv.async_cas({"f", "2"}, Value::array({1, 2}), std::nullopt, net::use_future).get());
    CHECK_FALSE(kv.async_cas({"f", "2"}, Value(1), Value(2), net::use_future).get());
    CHECK(kv.async_get({"f", "2"}, net::use_future).get() == std::nullopt);
    kv.async_remove({"f", "1"}, net::use_future).get();
    CHECK(kv.async_get_json({"f", "1"}, net::use_future).get() == std::nullopt);
    auto bad = kv.async_set(KvKey{}, Value(1), net::use_future);
    CHECK_THROWS_MATCHES(bad.get(), kvstore::Error,
                         Catch::Predicate<kvstore::Error>([](const kvstore::Error& e) {
                           return e.code() == ErrorCode::invalid_argument;
                         }));
    guard.reset();
    runner.join();
  }
}

#if defined(KVSTORE_TEST_CO_AWAIT)
TEST_CASE("every call completes through use_awaitable", "[adapter]") {
  TempDb db;
  for (const std::string& url : urls(db, "list_page_size=7")) {
    INFO(url);
    net::io_context io;
    kva::store kv(open_shared(url), io.get_executor());
    std::vector<std::string> steps;
    bool finished = false;
    net::co_spawn(
        io,
        [&]() -> net::awaitable<void> {
          // Named keys: GCC 12 rejects braced string lists inside co_await.
          const KvKey w1{"w", "1"};
          const KvKey w2{"w", "2"};
          const KvKey w3{"w", "3"};
          const KvKey w{"w"};
          co_await kv.async_set(w1, Value(true), net::use_awaitable);
          auto v = co_await kv.async_get(w1, net::use_awaitable);
          steps.push_back(v ? v->dump() : "absent");
          co_await kv.async_set_json(w2, R"({"x":[1]})", kvstore::SetOptions{10min},
                                     net::use_awaitable);
          auto t = co_await kv.async_get_json(w2, net::use_awaitable);
          steps.push_back(t.value_or("absent"));
          bool swapped = co_await kv.async_cas(w2, Value::parse(R"({"x":[1]})"), Value("y"),
                                               kvstore::SetOptions{}, net::use_awaitable);
          steps.push_back(swapped ? "swapped" : "kept");
          co_await kv.async_remove(w1, net::use_awaitable);
          steps.push_back((co_await kv.async_get(w1, net::use_awaitable)) ? "present" : "absent");
          try {
            co_await kv.async_set_json(w3, "{not json", net::use_awaitable);
            steps.push_back("no error");
          } catch (const kvstore::Error& e) {
            steps.push_back(std::string(kvstore::to_string(e.code())));
          }
          auto cursor = kv.list(w);
          while (auto entry = co_await cursor.async_next(net::use_awaitable)) {
            steps.push_back(kvstore::to_display_string(entry->key) + "=" + entry->value.dump());
          }
          finished = true;
        },
        net::detached);
    io.run();
    CHECK(finished);
    CHECK(steps ==
          std::vector<std::string>{"true", R"({"x":[1]})", "swapped", "absent", "invalid_argument",
                                   kvstore::to_display_string(KvKey{"w", "2"}) + "=\"y\""});
  }
}
#endif

#if defined(KVSTORE_TEST_SLOTS)
TEST_CASE("every call completes through deferred", "[adapter]") {
  TempDb db;
  for (const std::string& url : urls(db)) {
    INFO(url);
    net::io_context io;
    kva::store kv(open_shared(url), io.get_executor());
    std::vector<std::string> steps;
    // A deferred operation starts only when invoked, and may be chained.
    auto set = kv.async_set({"d"}, Value(7), net::experimental::deferred);
    auto get = kv.async_get({"d"}, net::experimental::deferred);
    auto cas = kv.async_cas({"d"}, Value(7), Value(8), net::experimental::deferred);
    auto get_json = kv.async_get_json({"d"}, net::experimental::deferred);
    auto set_json = kv.async_set_json({"e"}, "1", net::experimental::deferred);
    auto remove = kv.async_remove({"d"}, net::experimental::deferred);
    io.run();
    io.restart();
    CHECK_FALSE(kv.kv()->get({"d"}));  // nothing ran yet
    std::move(set)([&](std::exception_ptr e) {
      steps.push_back(e ? "set failed" : "set");
      std::move(get)([&](std::exception_ptr e, std::optional<Value> v) {
        steps.push_back(!e && v ? v->dump() : "get failed");
        std::move(cas)([&](std::exception_ptr e, bool swapped) {
          steps.push_back(!e && swapped ? "swapped" : "cas failed");
          std::move(get_json)([&](std::exception_ptr e, std::optional<std::string> t) {
            steps.push_back(!e && t ? *t : "get_json failed");
            std::move(set_json)([&](std::exception_ptr e) {
              steps.push_back(e ? "set_json failed" : "set_json");
              std::move(remove)(
                  [&](std::exception_ptr e) { steps.push_back(e ? "failed" : "removed"); });
            });
          });
        });
      });
    });
    io.run();
    CHECK(steps == std::vector<std::string>{"set", "7", "swapped", "8", "set_json", "removed"});
    CHECK_FALSE(kv.kv()->get({"d"}));
    CHECK(kv.kv()->get({"e"}) == Value(1));
  }
}
#endif

TEST_CASE("handlers run on the caller's strand with a 4-thread io_context",
          "[adapter][concurrency]") {
  TempDb db;
  for (const std::string& url : urls(db, "async_workers=4")) {
    INFO(url);
    net::io_context io(4);
    auto guard = net::make_work_guard(io);
    kva::store kv(open_shared(url), io.get_executor());
    auto strand = net::make_strand(io);
    constexpr int kOps = 400;
    // Counted on the strand only: no atomics, so TSan sees any handler that
    // runs off the strand racing with the others.
    int completed = 0;
    int off_strand = 0;
    int failed = 0;
    std::promise<void> all_done;
    auto on_done = [&](std::exception_ptr e) {
      if (!strand.running_in_this_thread()) ++off_strand;
      if (e) ++failed;
      if (++completed == kOps) all_done.set_value();
    };
    std::vector<std::thread> threads;
    for (int i = 0; i < 4; ++i) threads.emplace_back([&] { io.run(); });
    net::post(strand, [&] {
      for (int i = 0; i < kOps; ++i) {
        KvKey key{"s", std::to_string(i % 50)};
        switch (i % 4) {
          case 0:
            kv.async_set(key, Value(i), net::bind_executor(strand, on_done));
            break;
          case 1:
            kv.async_get(
                key, net::bind_executor(
                         strand, [&](std::exception_ptr e, std::optional<Value>) { on_done(e); }));
            break;
          case 2:
            kv.async_cas(
                key, std::nullopt, Value(i),
                net::bind_executor(strand, [&](std::exception_ptr e, bool) { on_done(e); }));
            break;
          default:
            kv.async_remove(key, net::bind_executor(strand, on_done));
        }
      }
    });
#if defined(KVSTORE_TEST_CO_AWAIT)
    // A coroutine on the strand stays on it across co_await.
    std::promise<int> coroutine_off_strand;
    net::co_spawn(
        strand,
        [&]() -> net::awaitable<void> {
          int off = 0;
          for (int i = 0; i < 100; ++i) {
            const KvKey key{"c", std::to_string(i)};
            co_await kv.async_set(key, Value(i), net::use_awaitable);
            if (!strand.running_in_this_thread()) ++off;
            co_await kv.async_get(key, net::use_awaitable);
            if (!strand.running_in_this_thread()) ++off;
          }
          coroutine_off_strand.set_value(off);
        },
        net::detached);
    CHECK(coroutine_off_strand.get_future().get() == 0);
#endif
    all_done.get_future().wait();
    guard.reset();
    for (auto& t : threads) t.join();
    CHECK(completed == kOps);
    CHECK(off_strand == 0);
    CHECK(failed == 0);
  }
}

TEST_CASE("a deadline from CallOptions times the call out", "[adapter]") {
  net::io_context io;
  auto core = open_shared("memory:?async_workers=1");
  kva::store kv(core, io.get_executor());
  WorkerBlocker blocker(*core);  // the call below waits in the queue
  std::exception_ptr error;
  bool done = false;
  const auto start = std::chrono::steady_clock::now();
  kv.with_options(timeout_options(100ms)).async_get({"t"}, [&](std::exception_ptr e, auto) {
    error = e;
    done = true;
  });
  io.run();
  const auto waited = std::chrono::steady_clock::now() - start;
  REQUIRE(done);
  REQUIRE(error);
  CHECK(code_of(error) == ErrorCode::timeout);
  CHECK(waited >= 100ms);
  CHECK(waited < 5s);
  blocker.release();
  // The store works again once the worker is free.
  CHECK(kv.async_get({"t"}, net::use_future).get() == std::nullopt);
}

TEST_CASE("a stop token from CallOptions cancels the call", "[adapter]") {
  net::io_context io;
  auto core = open_shared("memory:?async_workers=1");
  kva::store kv(core, io.get_executor());
  WorkerBlocker blocker(*core);
  std::stop_source stop;
  std::exception_ptr error;
  kv.with_options(stop_options(stop.get_token()))
      .async_set({"x"}, Value(1), [&](std::exception_ptr e) { error = e; });
  net::post(io, [&] { stop.request_stop(); });
  io.run();
  REQUIRE(error);
  std::optional<kvstore::Error> keep;
  CHECK(error_of(error, keep).code() == ErrorCode::cancelled);
  CHECK_FALSE(keep->outcome_unknown());  // it never left the queue
  blocker.release();
  CHECK(kv.async_get({"x"}, net::use_future).get() == std::nullopt);
}

#if defined(KVSTORE_TEST_SLOTS)
TEST_CASE("a cancellation slot cancels a call before it is sent", "[adapter]") {
  static_assert(kva::has_cancellation_slots);
  net::io_context io;
  auto core = open_shared("memory:?async_workers=1");
  kva::store kv(core, io.get_executor());
  WorkerBlocker blocker(*core);  // holds the call in the worker queue
  net::cancellation_signal signal;
  std::exception_ptr error;
  bool done = false;
  kv.async_set({"q"}, Value(1),
               net::bind_cancellation_slot(signal.slot(), [&](std::exception_ptr e) {
                 error = e;
                 done = true;
               }));
  net::post(io, [&] { signal.emit(net::cancellation_type::terminal); });
  io.run();
  REQUIRE(done);
  REQUIRE(error);
  std::optional<kvstore::Error> keep;
  CHECK(error_of(error, keep).code() == ErrorCode::cancelled);
  CHECK_FALSE(keep->outcome_unknown());
  blocker.release();
  // It was never run: the worker drops a cancelled call.
  CHECK(kv.async_get({"q"}, net::use_future).get() == std::nullopt);
}

TEST_CASE("a cancellation slot cancels a call after it is sent", "[adapter]") {
  TempDb db;
  net::io_context io;
  auto core = open_shared("sqlite:" + db.path + "?busy_timeout=20s&command_timeout=30s");
  core->set({"k"}, Value(0));  // creates the table before the lock is taken
  // A second connection holds the write lock: our set waits for it inside
  // SQLite, on the worker, after the call was handed to the driver.
  sqlite3* other = nullptr;
  REQUIRE(sqlite3_open(db.path.c_str(), &other) == SQLITE_OK);
  REQUIRE(sqlite3_exec(other, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr) == SQLITE_OK);
  kva::store kv(core, io.get_executor());
  net::cancellation_signal signal;
  std::exception_ptr error;
  kv.async_set(
      {"k"}, Value(1),
      net::bind_cancellation_slot(signal.slot(), [&](std::exception_ptr e) { error = e; }));
  // Long enough for the idle worker to have picked the call up.
  net::steady_timer timer(io, 300ms);
  timer.async_wait([&](auto) { signal.emit(net::cancellation_type::terminal); });
  const auto start = std::chrono::steady_clock::now();
  io.run();
  CHECK(std::chrono::steady_clock::now() - start < 10s);  // not the busy timeout
  REQUIRE(error);
  std::optional<kvstore::Error> keep;
  CHECK(error_of(error, keep).code() == ErrorCode::cancelled);
  CHECK(keep->outcome_unknown());  // the write reached the driver
  REQUIRE(sqlite3_exec(other, "COMMIT", nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(other);
  // The store stays usable; the abandoned write may have landed.
  auto now = kv.async_get({"k"}, net::use_future).get();
  CHECK((now == Value(0) || now == Value(1)));
}
#endif

TEST_CASE("a pending operation keeps the store alive", "[adapter]") {
  TempDb db;
  for (const std::string& url : urls(db)) {
    INFO(url);
    net::io_context io;
    std::weak_ptr<kvstore::KvStore> weak;
    bool ok = false;
    {
      auto core = open_shared(url);
      weak = core;
      kva::store kv(std::move(core), io.get_executor());
      kv.async_set({"alive"}, Value(1), [&](std::exception_ptr e) { ok = !e; });
    }
    // Only the pending operation holds the store now.
    CHECK_FALSE(weak.expired());
    io.run();
    CHECK(ok);
    CHECK(weak.expired());  // released once the handler ran
  }
}

TEST_CASE("a list cursor pages through 1000 entries", "[adapter]") {
  TempDb db;
  for (const std::string& url : urls(db, "list_page_size=7")) {
    INFO(url);
    net::io_context io;
    auto core = open_shared(url);
    for (int i = 0; i < 1000; ++i) {
      char name[8];
      std::snprintf(name, sizeof name, "%04d", i);
      core->set({"l", name}, Value(i));
    }
    core->set({"m"}, Value("outside the prefix"));
    kva::store kv(core, io.get_executor());
    auto cursor = kv.list({"l"});
    std::vector<int> seen;
    bool bad = false;
    bool finished = false;
    std::function<void()> pull = [&] {
      cursor.async_next([&](std::exception_ptr e, std::optional<kvstore::Entry> entry) {
        if (e) bad = true;
        finished = e || !entry;
        if (finished) return;
        seen.push_back(entry->value.get<int>());
        char name[8];
        std::snprintf(name, sizeof name, "%04d", seen.back());
        if (entry->key != KvKey{"l", name}) bad = true;
        pull();
      });
    };
    pull();
    // Bounded: a cursor that never completes its next() fails here, not by
    // ctest's timeout.
    io.run_for(60s);
    REQUIRE(finished);
    CHECK_FALSE(bad);
    REQUIRE(seen.size() == 1000);
    for (int i = 0; i < 1000; ++i) {
      if (seen[i] != i) FAIL("entry " << i << " is " << seen[i]);
    }
    // With a limit, through use_future.
    io.restart();
    auto guard = net::make_work_guard(io);
    std::thread runner([&] { io.run(); });
    auto limited = kv.list({"l"}, kvstore::ListOptions{std::nullopt, 10});
    int count = 0;
    while (limited.async_next(net::use_future).get()) ++count;
    CHECK(count == 10);
    guard.reset();
    runner.join();
  }
}

TEST_CASE("a second async_next while one is pending fails", "[adapter]") {
  net::io_context io;
  kva::store kv(open_shared("memory:"), io.get_executor());
  kv.kv()->set({"p", "1"}, Value(1));
  auto cursor = kv.list({"p"});
  std::vector<std::string> outcomes;
  cursor.async_next([&](std::exception_ptr e, std::optional<kvstore::Entry> entry) {
    outcomes.push_back(!e && entry ? "entry" : "first failed");
  });
  cursor.async_next([&](std::exception_ptr e, std::optional<kvstore::Entry>) {
    outcomes.push_back(e ? std::string(kvstore::to_string(code_of(e))) : "no error");
  });
  io.run();
  std::sort(outcomes.begin(), outcomes.end());
  CHECK(outcomes == std::vector<std::string>{"entry", "invalid_argument"});
}

TEST_CASE("a cursor destroyed mid-prefetch still completes its call", "[adapter]") {
  TempDb db;
  for (const std::string& url : urls(db, "list_page_size=3")) {
    INFO(url);
    // The io_context outlives the store: the store's threads post to it until
    // the store is destroyed (docs/async.md, Lifetime).
    net::io_context io;
    auto core = open_shared(url);
    for (int i = 0; i < 20; ++i) core->set({"z", std::to_string(i)}, Value(i));
    kva::store kv(core, io.get_executor());
    int completions = 0;
    bool got_entry = false;
    {
      auto cursor = kv.list({"z"});
      cursor.async_next([&](std::exception_ptr e, std::optional<kvstore::Entry> entry) {
        ++completions;
        got_entry = !e && entry.has_value();
      });
    }  // destroyed while its first page is being fetched
    io.run();
    CHECK(completions == 1);
    CHECK(got_entry);
  }
}

TEST_CASE("a null store is rejected", "[adapter]") {
  net::io_context io;
  CHECK_THROWS_AS(kva::store(nullptr, io.get_executor()), kvstore::Error);
}
