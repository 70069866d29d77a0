// Conformance: keys — which keys exist, which are distinct, which are rejected.
#include <catch2/catch.hpp>

#include "fixture.h"
#include "support.h"

using kvstore::ErrorCode;
using kvstore::KvKey;

TEST_CASE("keys: components with special characters round-trip", "[keys]") {
  auto store = conformance::open_store();
  const std::vector<std::string> components = {
      "", ":", "/", "%", "_", "*", "?", "[", "]", "\\", "\"", "'", "`", " ", "  lead", "trail ",
      "\n", "\r\n", "\t", "a:b", "a/b", "%25", "a_b", "a%b", "*?", "\x01", "\x02", "\x01\x02\x03",
      "\x7f", "é", "ß", "日本語", "😀", "🏳️‍🌈", "\xe2\x80\x8b", "https://example.com/users/alice#main-key",
      "SELECT * FROM kv; --", "' OR '1'='1", "${ns}", "{ns}"};
  int i = 0;
  for (const std::string& c : components) {
    KvKey key{"k", c, c};
    store->set(key, i);
    INFO("component #" << i);
    REQUIRE(store->get(key) == kvstore::Value(i));
    ++i;
  }
  i = 0;
  for (const std::string& c : components) {
    CHECK(store->get({"k", c, c}) == kvstore::Value(i++));
  }
  std::size_t listed = 0;
  for (const kvstore::Entry& e : store->list({"k"})) {
    REQUIRE(e.key.size() == 3);
    CHECK(e.key[1] == e.key[2]);
    ++listed;
  }
  CHECK(listed == components.size());
}

TEST_CASE("keys: lookalike keys are distinct", "[keys]") {
  auto store = conformance::open_store();
  const std::vector<KvKey> keys = {
      {"a", "b"}, {"a:b"}, {"a", "b", ""}, {"ab"}, {"a/b"}, {"a", "", "b"}, {"", "a", "b"},
      {"a\x01" "b"}, {"a\x02" "b"}, {"a", "b\x01"}, {"A", "b"}, {"a "}, {"a"}, {""}, {"", ""}};
  for (std::size_t i = 0; i < keys.size(); ++i) store->set(keys[i], static_cast<int>(i));
  for (std::size_t i = 0; i < keys.size(); ++i) {
    INFO("key " << kvstore::to_display_string(keys[i]));
    CHECK(store->get(keys[i]) == kvstore::Value(static_cast<int>(i)));
  }
  CHECK(support::keys_of(store->list()).size() == keys.size());
  store->remove({"a", "b"});
  CHECK_FALSE(store->get({"a", "b"}).has_value());
  CHECK(store->get({"a:b"}) == kvstore::Value(1));
  CHECK(store->get({"a", "b", ""}) == kvstore::Value(2));
}

TEST_CASE("keys: invalid keys are rejected before any change", "[keys][errors]") {
  auto store = conformance::open_store();
  store->set({"ok"}, "kept");
  const KvKey empty;
  support::require_error(ErrorCode::invalid_argument, [&] { store->get(empty); });
  support::require_error(ErrorCode::invalid_argument, [&] { store->get_json(empty); });
  support::require_error(ErrorCode::invalid_argument, [&] { store->set(empty, 1); });
  support::require_error(ErrorCode::invalid_argument, [&] { store->set_json(empty, "1"); });
  support::require_error(ErrorCode::invalid_argument, [&] { store->remove(empty); });
  support::require_error(ErrorCode::invalid_argument,
                         [&] { store->cas(empty, std::nullopt, 1); });

  const std::vector<std::pair<std::string, KvKey>> bad = {
      {"NUL byte", {"ok", std::string("a\0b", 3)}},
      {"lone continuation byte", {"\x80"}},
      {"0xFF byte", {"ok\xff"}},
      {"overlong '/'", {"\xc0\xaf"}},
      {"UTF-16 surrogate", {"\xed\xa0\x80"}},
      {"above U+10FFFF", {"\xf4\x90\x80\x80"}},
      {"truncated sequence", {"\xe6\x97"}},
  };
  for (const auto& [what, key] : bad) {
    INFO(what);
    support::require_error(ErrorCode::invalid_argument, [&] { store->set(key, 1); });
    support::require_error(ErrorCode::invalid_argument, [&] { store->get(key); });
    support::require_error(ErrorCode::invalid_argument, [&] { store->remove(key); });
    support::require_error(ErrorCode::invalid_argument, [&] { store->cas(key, std::nullopt, 1); });
    support::require_error(ErrorCode::invalid_argument, [&] { store->list(key).to_vector(); });
    support::require_error(ErrorCode::invalid_argument, [&] {
      store->list({}, {.start_after = key, .limit = std::nullopt}).to_vector();
    });
  }
  CHECK(store->get({"ok"}) == kvstore::Value("kept"));
  CHECK(support::keys_of(store->list()) == std::vector<KvKey>{{"ok"}});
}

TEST_CASE("keys: the documented size limit holds", "[keys][limits]") {
  auto store = conformance::open_store();
  REQUIRE(store->capabilities().max_key_bytes == kvstore::kMaxKeyBytes);
  const KvKey longest{std::string(kvstore::kMaxKeyBytes, 'x')};
  store->set(longest, "long");
  CHECK(store->get(longest) == kvstore::Value("long"));
  CHECK(support::keys_of(store->list({longest[0]})) == std::vector<KvKey>{longest});

  // Worst case for encodings that escape bytes: every byte a control character.
  const KvKey escaped{"e", std::string(kvstore::kMaxKeyBytes - 1, '\x01')};
  store->set(escaped, "escaped");
  CHECK(store->get(escaped) == kvstore::Value("escaped"));

  KvKey many(kvstore::kMaxKeyComponents, "");
  many[0] = "m";
  store->set(many, "many");
  CHECK(store->get(many) == kvstore::Value("many"));

  const KvKey too_long{std::string(kvstore::kMaxKeyBytes + 1, 'x')};
  support::require_error(ErrorCode::limit_exceeded, [&] { store->set(too_long, 1); });
  support::require_error(ErrorCode::limit_exceeded, [&] { store->get(too_long); });
  const KvKey split{std::string(kvstore::kMaxKeyBytes / 2, 'y'),
                    std::string(kvstore::kMaxKeyBytes / 2 + 1, 'y')};
  support::require_error(ErrorCode::limit_exceeded, [&] { store->set(split, 1); });
  KvKey too_many(kvstore::kMaxKeyComponents + 1, "z");
  support::require_error(ErrorCode::limit_exceeded, [&] { store->set(too_many, 1); });
}
