// Conformance: the cas recipes (cas/) behave the same on every driver.
#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

#include <kvstore/cas.h>

#include "fixture.h"
#include "support.h"

using namespace std::chrono_literals;
using kvstore::Value;
namespace recipes = kvstore::recipes;

TEST_CASE("recipes: update and set_if_absent", "[recipes]") {
  auto store = conformance::open_store();
  auto appended = recipes::update(store->kv(), {"list"}, [](const std::optional<Value>& current) {
    Value next = current ? *current : Value::array();
    next.push_back(next.size());
    return std::optional<Value>(next);
  });
  CHECK(appended == std::optional<Value>(Value::parse("[0]")));
  CHECK_FALSE(
      recipes::update(store->kv(), {"list"}, [](const auto&) { return std::optional<Value>(); }));
  CHECK_FALSE(store->get({"list"}).has_value());

  CHECK(recipes::set_if_absent(store->kv(), {"marker"}, true, {1h}));
  CHECK_FALSE(recipes::set_if_absent(store->kv(), {"marker"}, false, {1h}));
  CHECK(store->get({"marker"}) == Value(true));
}

TEST_CASE("recipes: counters are exact under contention", "[recipes][concurrency]") {
  auto store = conformance::open_store();
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 30; ++i) recipes::increment(store->kv(), {"hits"});
    });
  }
  for (auto& thread : threads) thread.join();
  CHECK(store->get({"hits"}) == Value(180));
  CHECK(recipes::increment(store->kv(), {"hits"}, -80) == 100);
  store->set({"hits"}, std::numeric_limits<std::int64_t>::max());
  support::require_error(kvstore::ErrorCode::limit_exceeded,
                         [&] { recipes::increment(store->kv(), {"hits"}); });
  store->set({"text"}, "seven");
  support::require_error(kvstore::ErrorCode::invalid_argument,
                         [&] { recipes::increment(store->kv(), {"text"}); });
}

TEST_CASE("recipes: a lease has one holder and expires", "[recipes]") {
  auto store = conformance::open_store();
  recipes::Lease first(store->kv(), {"lock"}, 400ms);
  recipes::Lease second(store->kv(), {"lock"}, 400ms);
  CHECK(first.token() != second.token());
  CHECK(first.try_acquire());
  CHECK_FALSE(second.try_acquire());
  CHECK(first.renew());
  CHECK_FALSE(second.release());
  CHECK(first.release());
  CHECK(second.try_acquire());
  std::this_thread::sleep_for(800ms);  // second's holder "dies"
  CHECK_FALSE(second.renew());
  CHECK(first.try_acquire());
}
