// Conformance: compare-and-swap — JSON equality, absent vs null, delete on
// match, and atomicity under contention.
#include <catch2/catch.hpp>

#include <atomic>
#include <barrier>
#include <chrono>
#include <thread>

#include "fixture.h"
#include "support.h"

using namespace std::chrono_literals;
using kvstore::Value;

TEST_CASE("cas: absent and present values and delete on match", "[cas]") {
  auto store = conformance::open_store();
  CHECK(store->cas({"k"}, std::nullopt, 1));
  CHECK(store->get({"k"}) == Value(1));
  CHECK_FALSE(store->cas({"k"}, std::nullopt, 2));  // must be absent: it is not
  CHECK_FALSE(store->cas({"k"}, Value(2), 3));      // wrong expected value
  CHECK(store->get({"k"}) == Value(1));
  CHECK(store->cas({"k"}, Value(1), 2));
  CHECK(store->get({"k"}) == Value(2));
  CHECK_FALSE(store->cas({"k"}, Value(1), std::nullopt));
  CHECK(store->get({"k"}) == Value(2));
  CHECK(store->cas({"k"}, Value(2), std::nullopt));  // delete on match
  CHECK_FALSE(store->get({"k"}).has_value());
  CHECK(store->cas({"k"}, std::nullopt, std::nullopt));  // absent stays absent: a match
  CHECK_FALSE(store->cas({"never"}, Value(1), 2));
  CHECK_FALSE(store->get({"never"}).has_value());
}

TEST_CASE("cas: null is a value and not absence", "[cas]") {
  auto store = conformance::open_store();
  CHECK_FALSE(store->cas({"k"}, Value(nullptr), 1));
  CHECK_FALSE(store->get({"k"}).has_value());
  store->set({"k"}, nullptr);
  CHECK_FALSE(store->cas({"k"}, std::nullopt, 1));
  CHECK(store->cas({"k"}, Value(nullptr), Value(nullptr)));
  CHECK(store->cas({"k"}, Value(nullptr), false));
  CHECK_FALSE(store->cas({"k"}, Value(0), 1));   // false is not 0
  CHECK_FALSE(store->cas({"k"}, Value(""), 1));  // nor ""
  CHECK(store->cas({"k"}, Value(false), Value::array()));
  CHECK_FALSE(store->cas({"k"}, Value::object(), 1));  // [] is not {}
  CHECK(store->cas({"k"}, Value::array(), Value::object()));
  CHECK(store->get({"k"}) == Value::object());
}

TEST_CASE("cas: compares by JSON equality", "[cas]") {
  auto store = conformance::open_store();
  store->set({"obj"}, Value::parse(R"({"a":1,"b":{"c":[1,2],"d":null}})"));
  CHECK(store->cas({"obj"}, Value::parse(R"({"b":{"d":null,"c":[1,2]},"a":1})"), "swapped"));
  store->set({"arr"}, Value::parse("[1,2]"));
  CHECK_FALSE(store->cas({"arr"}, Value::parse("[2,1]"), "no"));
  store->set({"int"}, 1);
  CHECK(store->cas({"int"}, Value(1.0), "one"));
  store->set({"float"}, 2.0);
  CHECK(store->cas({"float"}, Value(2), "two"));
  store->set({"big"}, std::numeric_limits<std::int64_t>::max());
  CHECK_FALSE(store->cas({"big"}, Value(std::numeric_limits<std::int64_t>::max() - 1), "no"));
  CHECK(store->cas({"big"}, Value(std::numeric_limits<std::int64_t>::max()), "yes"));
  store->set({"neg"}, -1);
  CHECK_FALSE(store->cas({"neg"}, Value(std::numeric_limits<std::uint64_t>::max()), "no"));
  // Text written through the zero-parse path, in any layout, still compares as JSON.
  store->set_json({"text"}, " { \"b\" : 2.0 ,\n \"a\" : [ 1 ] } ");
  CHECK_FALSE(store->cas({"text"}, Value::parse(R"({"a":[1],"b":3})"), "no"));
  CHECK(store->cas({"text"}, Value::parse(R"({"a":[1],"b":2})"), "yes"));
  CHECK(store->get({"obj"}) == Value("swapped"));
  CHECK(store->get({"arr"}) == Value::parse("[1,2]"));
  CHECK(store->get({"int"}) == Value("one"));
  CHECK(store->get({"float"}) == Value("two"));
  CHECK(store->get({"big"}) == Value("yes"));
  CHECK(store->get({"neg"}) == Value(-1));
  CHECK(store->get({"text"}) == Value("yes"));
}

TEST_CASE("cas: concurrent creators on an absent key give exactly one winner",
          "[cas][concurrency]") {
  auto store = conformance::open_store();
  constexpr int kThreads = 16;
  constexpr int kRounds = 10;
  for (int round = 0; round < kRounds; ++round) {
    const kvstore::KvKey key{"race", std::to_string(round)};
    if (round % 2 == 1) {  // odd rounds race on an expired entry instead
      store->set(key, "stale", {100ms});
      std::this_thread::sleep_for(250ms);
    }
    std::atomic<int> winners{0};
    std::atomic<int> winner{-1};
    std::barrier start(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        start.arrive_and_wait();
        if (store->cas(key, std::nullopt, t)) {
          ++winners;
          winner = t;
        }
      });
    }
    for (auto& thread : threads) thread.join();
    INFO("round " << round);
    REQUIRE(winners == 1);
    CHECK(store->get(key) == Value(winner.load()));
  }
}

TEST_CASE("cas: a get+cas counter ends exact", "[cas][concurrency]") {
  auto store = conformance::open_store();
  constexpr int kThreads = 8;
  constexpr int kIncrements = 40;
  store->set({"counter"}, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kIncrements; ++i) {
        for (;;) {
          std::optional<Value> current = store->get({"counter"});
          if (store->cas({"counter"}, current, current->get<int>() + 1)) break;
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  CHECK(store->get({"counter"}) == Value(kThreads * kIncrements));
}

TEST_CASE("cas: a second handle on the same data sees one winner", "[cas][concurrency][shared]") {
  auto first = conformance::open_store();
  REQUIRE(first->capabilities().shared);
  auto second = conformance::open_store(conformance::last_namespace());
  for (int round = 0; round < 20; ++round) {
    const kvstore::KvKey key{"shared", std::to_string(round)};
    std::atomic<int> winners{0};
    std::barrier start(8);
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
      threads.emplace_back([&, t] {
        conformance::Store& store = t % 2 ? *first : *second;
        start.arrive_and_wait();
        if (store.cas(key, std::nullopt, t)) ++winners;
      });
    }
    for (auto& thread : threads) thread.join();
    REQUIRE(winners == 1);
    CHECK(first->get(key) == second->get(key));
  }
  second->set({"from-second"}, "hello");
  CHECK(first->get({"from-second"}) == Value("hello"));
}
