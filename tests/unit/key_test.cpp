#include <catch2/catch.hpp>

#include <algorithm>
#include <random>

#include <kvstore/driver.h>
#include <kvstore/kvstore.h>

using kvstore::KvKey;

TEST_CASE("key encoding round-trips and preserves order", "[key]") {
  std::mt19937 random(1234);
  const std::string alphabet(
      "\x01\x02\x03"
      "a:/%_ \xc3\xa9",
      11);
  std::vector<KvKey> keys;
  for (int i = 0; i < 2000; ++i) {
    KvKey key(1 + random() % 4);
    for (std::string& component : key) {
      std::size_t length = random() % 4;
      for (std::size_t j = 0; j < length; ++j) component += alphabet[random() % 9];
    }
    keys.push_back(key);
  }
  for (const KvKey& key : keys) REQUIRE(kvstore::decode_key(kvstore::encode_key(key)) == key);
  std::vector<KvKey> by_key = keys;
  std::sort(by_key.begin(), by_key.end());
  std::vector<KvKey> by_encoding = keys;
  std::sort(by_encoding.begin(), by_encoding.end(), [](const KvKey& a, const KvKey& b) {
    return kvstore::encode_key(a) < kvstore::encode_key(b);
  });
  CHECK(by_key == by_encoding);
}

TEST_CASE("key encoding holds no NUL and a prefix range covers exactly its extensions", "[key]") {
  const KvKey prefix{"a", "\x01"};
  kvstore::KeyRange range = kvstore::list_range(prefix, std::nullopt);
  REQUIRE(range.end.has_value());
  auto inside = [&](const KvKey& key) {
    std::string encoded = kvstore::encode_key(key);
    CHECK(encoded.find('\0') == std::string::npos);
    return encoded >= range.begin && encoded < *range.end;
  };
  CHECK(inside({"a", "\x01"}));
  CHECK(inside({"a", "\x01", ""}));
  CHECK(inside({"a", "\x01", "zzz", "q"}));
  CHECK_FALSE(inside({"a", "\x01\x01"}));
  CHECK_FALSE(inside({"a", "\x02"}));
  CHECK_FALSE(inside({"a"}));
  CHECK_FALSE(inside({"a", ""}));
  CHECK_FALSE(inside({"a\x01"}));
  kvstore::KeyRange everything = kvstore::list_range({}, std::nullopt);
  CHECK(everything.begin.empty());
  CHECK_FALSE(everything.end.has_value());
  kvstore::KeyRange after = kvstore::list_range({}, KvKey{"a"});
  CHECK(after.begin > kvstore::encode_key({"a"}));
  CHECK(after.begin <= kvstore::encode_key({"a", ""}));
}

TEST_CASE("decode_key rejects bytes encode_key never produces", "[key]") {
  for (std::string bad : {std::string("a"), std::string("a\x02\x05\x01"), std::string("\x02"),
                          std::string(""), std::string("a\0\x01", 3)}) {
    CHECK_THROWS_AS(kvstore::decode_key(bad), kvstore::Error);
  }
}

TEST_CASE("UTF-8 validation", "[key]") {
  CHECK(kvstore::is_valid_utf8(""));
  CHECK(kvstore::is_valid_utf8("plain ascii"));
  CHECK(kvstore::is_valid_utf8("\xc3\xa9\xe6\x97\xa5\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf"));
  CHECK_FALSE(kvstore::is_valid_utf8("\xc3"));
  CHECK_FALSE(kvstore::is_valid_utf8("\xc0\x80"));          // overlong NUL
  CHECK_FALSE(kvstore::is_valid_utf8("\xe0\x80\xaf"));      // overlong
  CHECK_FALSE(kvstore::is_valid_utf8("\xed\xbf\xbf"));      // surrogate
  CHECK_FALSE(kvstore::is_valid_utf8("\xf4\x90\x80\x80"));  // > U+10FFFF
  CHECK_FALSE(kvstore::is_valid_utf8("\xf8\x88\x80\x80\x80"));
}

TEST_CASE("has_prefix matches whole components", "[key]") {
  CHECK(kvstore::has_prefix({"a", "b"}, {"a"}));
  CHECK(kvstore::has_prefix({"a"}, {"a"}));
  CHECK(kvstore::has_prefix({"a"}, {}));
  CHECK_FALSE(kvstore::has_prefix({"ab"}, {"a"}));
  CHECK_FALSE(kvstore::has_prefix({"a"}, {"a", "b"}));
}
