// Conformance: entry metadata, absolute expiry (expires_at), get_entry and
// the keys-only listing, the same on every driver (DESIGN §2, "Metadata,
// expiry, bulk").
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <limits>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "fixture.h"
#include "support.h"

using namespace std::chrono_literals;
using kvstore::Clock;
using kvstore::ErrorCode;
using kvstore::KvKey;
using kvstore::SetEntry;
using kvstore::SetOptions;
using kvstore::Value;

namespace {

Clock::time_point to_ms(Clock::time_point t) {
  return std::chrono::floor<std::chrono::milliseconds>(t);
}

SetOptions with_metadata(Value metadata) {
  SetOptions options;
  options.metadata = std::move(metadata);
  return options;
}

SetOptions expiring_at(Clock::time_point at) {
  SetOptions options;
  options.expires_at = at;
  return options;
}

// Metadata of exactly `bytes` bytes of compact JSON: a string of `bytes - 2`
// characters plus its quotes.
Value metadata_of_size(std::size_t bytes) { return Value(std::string(bytes - 2, 'm')); }

// Requires `key` to hold `value` with no metadata and no expiry.
void require_plain(conformance::Store& store, const KvKey& key, const Value& value) {
  auto entry = store.get_entry(key);
  REQUIRE(entry.has_value());
  CHECK(entry->value == value);
  CHECK_FALSE(entry->metadata.has_value());
  CHECK_FALSE(entry->expires_at.has_value());
}

}  // namespace

TEST_CASE("entry: get_entry returns the value, and nothing for absent or expired keys", "[entry]") {
  auto store = conformance::open_store();
  CHECK_FALSE(store->get_entry({"e", "missing"}).has_value());
  store->set({"e", "plain"}, Value{{"a", 1}});
  store->set({"e", "null"}, nullptr);
  store->set({"e", "gone"}, 1, {200ms});
  std::this_thread::sleep_for(500ms);

  auto plain = store->get_entry({"e", "plain"});
  REQUIRE(plain.has_value());
  CHECK(plain->key == KvKey{"e", "plain"});
  CHECK(plain->value == Value{{"a", 1}});
  CHECK_FALSE(plain->metadata.has_value());
  CHECK_FALSE(plain->expires_at.has_value());

  auto null = store->get_entry({"e", "null"});
  REQUIRE(null.has_value());  // a stored null is an entry
  CHECK(null->value.is_null());
  CHECK_FALSE(store->get_entry({"e", "gone"}).has_value());
}

TEST_CASE("metadata: every write stores it and get_entry returns it, and null is not absent",
          "[entry][metadata]") {
  auto store = conformance::open_store();
  const Value meta{{"contentType", "application/activity+json"}, {"schema", 3}};

  store->set({"m", "set"}, "doc", with_metadata(meta));
  store->set_json({"m", "set_json"}, R"({ "raw" : true })", with_metadata(meta));
  CHECK(store->cas({"m", "cas"}, std::nullopt, "new", with_metadata(meta)));
  store->set_many({{{"m", "many", "1"}, 1, with_metadata(Value{{"i", 1}})},
                   {{"m", "many", "2"}, 2, {}},
                   {{"m", "many", "3"}, 3, with_metadata(nullptr)}});
  store->set({"m", "null"}, "doc", with_metadata(nullptr));
  store->set({"m", "scalar"}, "doc", with_metadata(Value("v1")));

  for (const KvKey& key : {KvKey{"m", "set"}, KvKey{"m", "set_json"}, KvKey{"m", "cas"}}) {
    INFO(kvstore::to_display_string(key));
    auto entry = store->get_entry(key);
    REQUIRE(entry.has_value());
    REQUIRE(entry->metadata.has_value());
    CHECK(*entry->metadata == meta);
    CHECK_FALSE(entry->expires_at.has_value());
  }
  CHECK(store->get_json({"m", "set_json"}) == R"({ "raw" : true })");  // the value is untouched

  auto one = store->get_entry({"m", "many", "1"});
  REQUIRE(one.has_value());
  CHECK(one->metadata == Value{{"i", 1}});
  auto two = store->get_entry({"m", "many", "2"});
  REQUIRE(two.has_value());
  CHECK_FALSE(two->metadata.has_value());
  auto three = store->get_entry({"m", "many", "3"});
  REQUIRE(three.has_value());
  REQUIRE(three->metadata.has_value());
  CHECK(three->metadata->is_null());

  auto null = store->get_entry({"m", "null"});
  REQUIRE(null.has_value());
  REQUIRE(null->metadata.has_value());
  CHECK(null->metadata->is_null());
  CHECK(store->get_entry({"m", "scalar"})->metadata == Value("v1"));
}

TEST_CASE("metadata: each write replaces it, a failed cas keeps it, cas ignores it",
          "[entry][metadata]") {
  auto store = conformance::open_store();
  const KvKey key{"r", "doc"};
  store->set(key, 1, with_metadata(Value{{"v", 1}}));
  store->set(key, 2);  // no metadata: the entry has none afterwards
  require_plain(*store, key, 2);

  store->set(key, 3, with_metadata(Value{{"v", 3}}));
  store->set_json(key, "4");
  require_plain(*store, key, 4);

  store->set(key, 5, with_metadata(Value{{"v", 5}}));
  store->set_many({{key, 6, {}}});
  require_plain(*store, key, 6);

  // The comparison is on values only: metadata plays no part.
  store->set(key, 7, with_metadata(Value{{"v", 7}}));
  CHECK_FALSE(store->cas(key, 8, 9, with_metadata(Value{{"v", 9}})));
  auto kept = store->get_entry(key);
  REQUIRE(kept.has_value());
  CHECK(kept->value == 7);
  CHECK(kept->metadata == Value{{"v", 7}});

  CHECK(store->cas(key, 7, 10, with_metadata(Value{{"v", 10}})));
  auto swapped = store->get_entry(key);
  REQUIRE(swapped.has_value());
  CHECK(swapped->value == 10);
  CHECK(swapped->metadata == Value{{"v", 10}});

  CHECK(store->cas(key, 10, 11));  // a cas without metadata leaves none
  require_plain(*store, key, 11);
}

TEST_CASE("metadata: at most kMaxMetadataBytes, checked before any I/O", "[entry][metadata]") {
  auto store = conformance::open_store();
  const KvKey key{"l", "doc"};
  store->set(key, "before", with_metadata(Value("old")));

  store->set(key, "at limit", with_metadata(metadata_of_size(kvstore::kMaxMetadataBytes)));
  auto at_limit = store->get_entry(key);
  REQUIRE(at_limit.has_value());
  CHECK(at_limit->metadata == metadata_of_size(kvstore::kMaxMetadataBytes));

  const SetOptions too_large = with_metadata(metadata_of_size(kvstore::kMaxMetadataBytes + 1));
  support::require_error(ErrorCode::limit_exceeded, [&] { store->set(key, "no", too_large); });
  support::require_error(ErrorCode::limit_exceeded,
                         [&] { store->set_json(key, "\"no\"", too_large); });
  support::require_error(ErrorCode::limit_exceeded,
                         [&] { store->cas(key, "at limit", "no", too_large); });
  support::require_error(ErrorCode::limit_exceeded, [&] {
    store->set_many({{{"l", "other"}, 1, {}}, {key, "no", too_large}});
  });
  // Metadata is JSON as values are: what a value may not hold, it may not.
  support::require_error(ErrorCode::invalid_argument, [&] {
    store->set(key, "no", with_metadata(Value(std::numeric_limits<double>::quiet_NaN())));
  });
  support::require_error(ErrorCode::invalid_argument, [&] {
    store->set(key, "no", with_metadata(Value(std::string("\xff\xfe"))));
  });

  auto after = store->get_entry(key);
  REQUIRE(after.has_value());
  CHECK(after->value == "at limit");
  CHECK(after->metadata == metadata_of_size(kvstore::kMaxMetadataBytes));
  CHECK_FALSE(store->get({"l", "other"}).has_value());  // set_many wrote nothing
}

TEST_CASE(
    "expires_at: a past time, a time past kMaxTtl, or both ttl and expires_at are "
    "rejected before any I/O",
    "[entry][expiry]") {
  auto store = conformance::open_store();
  const KvKey key{"x", "doc"};
  store->set(key, "kept");

  const SetOptions past = expiring_at(Clock::now() - 1s);
  const SetOptions long_past = expiring_at(Clock::time_point::min());
  const SetOptions too_far = expiring_at(Clock::now() + kvstore::kMaxTtl + 1h);
  const SetOptions very_far = expiring_at(Clock::time_point::max());
  SetOptions both = expiring_at(Clock::now() + 1h);
  both.ttl = 1h;
  for (const SetOptions& bad : {past, long_past, too_far, very_far, both}) {
    support::require_error(ErrorCode::invalid_argument, [&] { store->set(key, "no", bad); });
    support::require_error(ErrorCode::invalid_argument,
                           [&] { store->set_json(key, "\"no\"", bad); });
    support::require_error(ErrorCode::invalid_argument,
                           [&] { store->cas(key, "kept", "no", bad); });
    support::require_error(ErrorCode::invalid_argument, [&] {
      store->set_many({{{"x", "other"}, 1, {}}, {key, "no", bad}});
    });
  }
  require_plain(*store, key, "kept");
  CHECK_FALSE(store->get({"x", "other"}).has_value());
}

TEST_CASE("expires_at: stored and reported to the millisecond by every write and listing",
          "[entry][expiry]") {
  auto store = conformance::open_store();
  // A time with a sub-millisecond part: the store keeps it rounded down.
  const Clock::time_point at = Clock::now() + 1h + std::chrono::microseconds(123456);
  const Clock::time_point want = to_ms(at);
  const SetOptions options = expiring_at(at);

  store->set({"p", "set"}, 1, options);
  store->set_json({"p", "set_json"}, "2", options);
  CHECK(store->cas({"p", "cas"}, std::nullopt, 3, options));
  store->set_many({{{"p", "many"}, 4, options}});

  for (const KvKey& key :
       {KvKey{"p", "set"}, KvKey{"p", "set_json"}, KvKey{"p", "cas"}, KvKey{"p", "many"}}) {
    INFO(kvstore::to_display_string(key));
    auto entry = store->get_entry(key);
    REQUIRE(entry.has_value());
    REQUIRE(entry->expires_at.has_value());
    CHECK(*entry->expires_at == want);
  }
  std::size_t listed = 0;
  for (const auto& entry : store->list({"p"})) {
    REQUIRE(entry.expires_at.has_value());
    CHECK(*entry.expires_at == want);
    ++listed;
  }
  CHECK(listed == 4);
  for (const auto& entry : store->list_json({"p"})) CHECK(entry.expires_at == want);
  for (const auto& entry : store->list_keys({"p"})) CHECK(entry.expires_at == want);

  // A later write without an expiry makes the entry permanent again.
  store->set({"p", "set"}, 1);
  require_plain(*store, {"p", "set"}, 1);
}

TEST_CASE("expires_at: an entry is gone once its time has passed", "[entry][expiry]") {
  auto store = conformance::open_store();
  // As ttl's precision case: judge only an attempt whose write finished early
  // enough; a loaded machine may need another try (at most 5).
  for (int attempt = 1;; ++attempt) {
    const KvKey key{"n", std::to_string(attempt)};
    const Clock::time_point at = Clock::now() + 1500ms;
    store->set(key, "earlier", with_metadata(Value("m")));
    store->set(key, "soon", expiring_at(at));
    const bool judged = Clock::now() < at - 700ms;
    if (judged) {
      auto entry = store->get_entry(key);
      REQUIRE(entry.has_value());
      CHECK(entry->expires_at == to_ms(at));
      CHECK_FALSE(entry->metadata.has_value());  // the second write replaced it
      CHECK(support::keys_of(store->list_keys({"n"})) == std::vector<KvKey>{key});
    }
    std::this_thread::sleep_until(at + 600ms);
    CHECK_FALSE(store->get(key).has_value());
    CHECK_FALSE(store->get_entry(key).has_value());
    CHECK(support::keys_of(store->list({"n"})).empty());
    CHECK(support::keys_of(store->list_keys({"n"})).empty());
    if (judged) break;
    REQUIRE(attempt < 5);
  }
}

TEST_CASE("ttl: get_entry reports the expiry as an absolute time on the store's clock",
          "[entry][expiry]") {
  auto store = conformance::open_store();
  const Clock::time_point before = Clock::now();
  store->set({"t", "doc"}, 1, {1h});
  const Clock::time_point after = Clock::now();
  auto entry = store->get_entry({"t", "doc"});
  REQUIRE(entry.has_value());
  REQUIRE(entry->expires_at.has_value());
  // The servers here share this machine's clock; allow for rounding and for
  // a server clock read a little before or after ours.
  CHECK(*entry->expires_at >= before + 1h - 1s);
  CHECK(*entry->expires_at <= after + 1h + 1s);

  auto listed = store->list_keys({"t"}).to_vector();
  REQUIRE(listed.size() == 1);
  CHECK(listed[0].expires_at == entry->expires_at);
}

TEST_CASE("list: entries carry their metadata and expiry", "[entry][list]") {
  auto store = conformance::open_store_with("list_page_size=2");
  const Clock::time_point at = Clock::now() + 2h;
  store->set({"ls", "a"}, 1, with_metadata(Value{{"n", "a"}}));
  store->set({"ls", "b"}, 2);
  SetOptions both = expiring_at(at);
  both.metadata = nullptr;
  store->set({"ls", "c"}, 3, both);
  store->set_json({"ls", "d"}, "[4]", expiring_at(at));
  store->set({"ls", "e"}, 5, with_metadata(Value("e")));

  auto entries = store->list({"ls"}).to_vector();
  REQUIRE(entries.size() == 5);
  CHECK(entries[0].metadata == Value{{"n", "a"}});
  CHECK_FALSE(entries[0].expires_at.has_value());
  CHECK_FALSE(entries[1].metadata.has_value());
  CHECK_FALSE(entries[1].expires_at.has_value());
  REQUIRE(entries[2].metadata.has_value());
  CHECK(entries[2].metadata->is_null());
  CHECK(entries[2].expires_at == to_ms(at));
  CHECK_FALSE(entries[3].metadata.has_value());
  CHECK(entries[3].expires_at == to_ms(at));
  CHECK(entries[4].metadata == Value("e"));

  auto json = store->list_json({"ls"}).to_vector();
  REQUIRE(json.size() == 5);
  CHECK(json[3].json == "[4]");
  CHECK(json[0].metadata == Value{{"n", "a"}});
  CHECK(json[2].expires_at == to_ms(at));
}

TEST_CASE("list_keys: the keys, metadata and expiry of list(), under the same rules",
          "[entry][list_keys]") {
  auto store = conformance::open_store_with("list_page_size=3");
  const Clock::time_point at = Clock::now() + 3h;
  std::vector<KvKey> all;
  for (int i = 0; i < 11; ++i) {
    const KvKey key{"k", "item" + std::to_string(i)};
    SetOptions options;
    if (i % 3 == 0) options.metadata = Value{{"i", i}};
    if (i % 4 == 0) options.expires_at = at;
    store->set(key, std::string(2000, 'v'), options);
    all.push_back(key);
  }
  store->set({"k"}, "the prefix itself");
  store->set({"kk", "outside"}, 0);
  store->set({"k", "expired"}, 0, {100ms});
  std::this_thread::sleep_for(400ms);

  // Same keys as list(), in the same order, with the same attributes.
  auto listed = store->list({"k"}).to_vector();
  auto keys = store->list_keys({"k"}).to_vector();
  REQUIRE(keys.size() == listed.size());
  REQUIRE(keys.size() == 12);
  CHECK(keys[0].key == KvKey{"k"});
  for (std::size_t i = 0; i < keys.size(); ++i) {
    INFO("entry " << i);
    CHECK(keys[i].key == listed[i].key);
    CHECK(keys[i].metadata == listed[i].metadata);
    CHECK(keys[i].expires_at == listed[i].expires_at);
  }
  // "item0": metadata {"i":0} and expiry at `at`.
  auto item0 = std::find_if(keys.begin(), keys.end(), [](const auto& e) {
    return e.key == KvKey{"k", "item0"};
  });
  REQUIRE(item0 != keys.end());
  CHECK(item0->metadata == Value{{"i", 0}});
  CHECK(item0->expires_at == to_ms(at));

  // start_after and limit as in list().
  kvstore::ListOptions page;
  page.start_after = KvKey{"k", "item3"};
  page.limit = 4;
  CHECK(support::keys_of(store->list_keys({"k"}, page)) ==
        support::keys_of(store->list({"k"}, page)));
  CHECK(support::keys_of(store->list_keys({"k"}, page)).size() == 4);
  kvstore::ListOptions none;
  none.limit = 0;
  CHECK(support::keys_of(store->list_keys({"k"}, none)).empty());
  // An empty prefix lists every key, the one outside "k" included.
  CHECK(support::keys_of(store->list_keys()).size() == 13);
  // Invalid prefixes and cursors are rejected as list() rejects them.
  support::require_error(ErrorCode::invalid_argument, [&] {
    store->list_keys({"k", std::string("\0", 1)}).to_vector();
  });
  kvstore::ListOptions bad;
  bad.start_after = KvKey{};
  support::require_error(ErrorCode::invalid_argument,
                         [&] { store->list_keys({"k"}, bad).to_vector(); });
}
