// Conformance: TTL — expiry is seen at once by get, list and cas, at
// millisecond precision; each write replaces the TTL.
#include <catch2/catch.hpp>

#include <chrono>
#include <thread>

#include "fixture.h"
#include "support.h"

using namespace std::chrono_literals;
using kvstore::ErrorCode;
using kvstore::Value;

TEST_CASE("ttl: must be positive", "[ttl][errors]") {
  auto store = conformance::open_store();
  for (auto ttl : {0ms, -1ms, -1000ms}) {
    support::require_error(ErrorCode::invalid_argument, [&] { store->set({"k"}, 1, {ttl}); });
    support::require_error(ErrorCode::invalid_argument,
                           [&] { store->set_json({"k"}, "1", {ttl}); });
    support::require_error(ErrorCode::invalid_argument,
                           [&] { store->cas({"k"}, std::nullopt, 1, {ttl}); });
  }
  CHECK_FALSE(store->get({"k"}).has_value());
}

TEST_CASE("ttl: an expired entry is invisible to get and list and cas", "[ttl]") {
  auto store = conformance::open_store();
  store->set({"p", "short"}, "s", {300ms});
  store->set_json({"p", "short-json"}, "\"sj\"", {300ms});
  store->set({"p", "long"}, "l", {60s});
  store->set({"p", "forever"}, "f");
  CHECK(store->get({"p", "short"}) == Value("s"));
  CHECK(support::keys_of(store->list({"p"})).size() == 4);
  std::this_thread::sleep_for(700ms);

  CHECK_FALSE(store->get({"p", "short"}).has_value());
  CHECK_FALSE(store->get_json({"p", "short-json"}).has_value());
  CHECK(store->get({"p", "long"}) == Value("l"));
  CHECK(support::keys_of(store->list({"p"})) ==
        std::vector<kvstore::KvKey>{{"p", "forever"}, {"p", "long"}});
  CHECK(support::keys_of(store->list_json()).size() == 2);
  // Expired counts as absent for cas: a value cannot match, absence does.
  CHECK_FALSE(store->cas({"p", "short"}, Value("s"), "new"));
  CHECK(store->cas({"p", "short"}, std::nullopt, "new"));
  CHECK(store->get({"p", "short"}) == Value("new"));
  CHECK(store->cas({"p", "short-json"}, std::nullopt, std::nullopt));  // "delete if absent" holds
  CHECK_FALSE(store->get({"p", "short-json"}).has_value());
}

TEST_CASE("ttl: millisecond precision", "[ttl]") {
  auto store = conformance::open_store();
  // The entry expires 1500ms after the write reached the backend, somewhere
  // between `before` and `after`. The presence check runs after `before` +
  // 1300ms (a driver that rounded down to 1s has expired it) and must finish
  // before `before` + 1500ms; the absence check runs at `after` + 1600ms (a
  // driver that rounded up to 2s still has it, since the write took under
  // 300ms). On a loaded machine a call can take longer than these windows
  // allow; then the attempt proves nothing and is made again.
  using Clock = std::chrono::steady_clock;
  for (int attempt = 0; attempt < 5; ++attempt) {
    const kvstore::KvKey key{"k", std::to_string(attempt)};
    const auto before = Clock::now();
    store->set(key, 1, {1500ms});
    const auto after = Clock::now();
    if (after - before >= 300ms) continue;
    std::this_thread::sleep_until(before + 1300ms);
    const bool present = store->get(key).has_value();
    if (Clock::now() >= before + 1500ms) continue;
    CHECK(present);
    std::this_thread::sleep_until(after + 1600ms);
    CHECK_FALSE(store->get(key).has_value());
    return;
  }
  FAIL("five attempts in a row had calls too slow to measure a 1500ms TTL");
}

TEST_CASE("ttl: every write replaces the TTL", "[ttl]") {
  auto store = conformance::open_store();
  store->set({"permanent"}, 1, {300ms});
  store->set({"permanent"}, 2);  // no ttl: permanent now
  store->set({"shortened"}, 1, {60s});
  store->set({"shortened"}, 2, {300ms});
  store->set({"cas-permanent"}, 1, {300ms});
  REQUIRE(store->cas({"cas-permanent"}, Value(1), Value(2)));
  store->set({"cas-shortened"}, 1);
  REQUIRE(store->cas({"cas-shortened"}, Value(1), Value(2), {300ms}));
  store->set({"failed-cas"}, 1, {60s});
  REQUIRE_FALSE(store->cas({"failed-cas"}, Value(0), Value(2), {300ms}));  // ttl only on swap
  std::this_thread::sleep_for(700ms);
  CHECK(store->get({"permanent"}) == Value(2));
  CHECK_FALSE(store->get({"shortened"}).has_value());
  CHECK(store->get({"cas-permanent"}) == Value(2));
  CHECK_FALSE(store->get({"cas-shortened"}).has_value());
  CHECK(store->get({"failed-cas"}) == Value(1));
}

TEST_CASE("ttl: many expired entries do not disturb live ones", "[ttl]") {
  auto store = conformance::open_store();
  for (int i = 0; i < 300; ++i) store->set({"e", std::to_string(i)}, i, {200ms});
  store->set({"e", "live"}, "yes");
  std::this_thread::sleep_for(500ms);
  for (int i = 0; i < 50; ++i) store->set({"w", std::to_string(i)}, i);  // writes may sweep
  CHECK(support::keys_of(store->list({"e"})) == std::vector<kvstore::KvKey>{{"e", "live"}});
  CHECK(support::keys_of(store->list({"w"})).size() == 50);
  store->set({"e", "7"}, "again");
  CHECK(store->get({"e", "7"}) == Value("again"));
}

TEST_CASE("ttl: at most kMaxTtl, checked before any I/O", "[ttl][errors]") {
  auto store = conformance::open_store();
  using ms = std::chrono::milliseconds;
  for (ms ttl : {kvstore::kMaxTtl + 1ms, ms::max(), ms(std::chrono::hours(24) * 365 * 300)}) {
    INFO(ttl.count());
    support::require_error(ErrorCode::invalid_argument, [&] { store->set({"k"}, 1, {ttl}); });
    support::require_error(ErrorCode::invalid_argument,
                           [&] { store->set_json({"k"}, "1", {ttl}); });
    support::require_error(ErrorCode::invalid_argument,
                           [&] { store->cas({"k"}, std::nullopt, 1, {ttl}); });
  }
  CHECK_FALSE(store->get({"k"}).has_value());
  // The longest TTL allowed is stored and live on every driver.
  store->set({"far"}, "f", {kvstore::kMaxTtl});
  store->set_json({"far-json"}, "2", {kvstore::kMaxTtl});
  CHECK(store->cas({"far-cas"}, std::nullopt, 3, {kvstore::kMaxTtl}));
  CHECK(store->get({"far"}) == Value("f"));
  CHECK(store->get({"far-json"}) == Value(2));
  CHECK(store->get({"far-cas"}) == Value(3));
  CHECK(support::keys_of(store->list()).size() == 3);
}
