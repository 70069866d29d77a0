// The SQLite driver's bulk calls beyond the conformance suite: get_many's
// split into statements of at most kGetManyMaxKeys keys, its plan, its one
// snapshot across statements, and the atomicity of set_many/remove_many.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <numeric>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <SQLiteCpp/SQLiteCpp.h>
#include <kvstore/driver.h>
#include <kvstore/kvstore.h>

#include "sql.h"

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using kvstore::KvKey;
using kvstore::SetEntry;
using kvstore::Value;
using kvstore::sqlite::detail::kGetManyMaxKeys;

namespace {

class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "kv-sqlite-bulk.XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  fs::path path_;
};

// An SQL blob literal of `key`'s encoding: what the driver stores in k.
std::string blob_of(const KvKey& key) {
  std::string hex = "X'";
  for (unsigned char c : kvstore::encode_key(key)) {
    char byte[3];
    std::snprintf(byte, sizeof byte, "%02x", c);
    hex += byte;
  }
  return hex + "'";
}

std::vector<KvKey> numbered_keys(const std::string& first, std::size_t n) {
  std::vector<KvKey> keys;
  for (std::size_t i = 0; i < n; ++i) keys.push_back({first, std::to_string(i)});
  return keys;
}

}  // namespace

TEST_CASE("sqlite: get_many splits its keys into statements correctly", "[sqlite][bulk]") {
  TempDir dir;
  const std::string url = GENERATE(as<std::string>{}, "sqlite::memory:", "file");
  auto store = kvstore::open(url == "file" ? "sqlite:" + dir.file("split.db") : url);
  // Key i: absent if i % 3 == 0, permanent if i % 3 == 1, else with a TTL
  // that has passed (i % 6 == 2) or not (i % 6 == 5).
  const std::size_t total = 3 * kGetManyMaxKeys + 100;
  const std::vector<KvKey> keys = numbered_keys("g", total);
  std::vector<SetEntry> entries;
  for (std::size_t i = 0; i < total; ++i) {
    if (i % 3 == 1) entries.push_back({keys[i], i});
    if (i % 3 == 2) entries.push_back({keys[i], i, {i % 6 == 2 ? 100ms : 1h}});
  }
  store->set_many(entries);
  std::this_thread::sleep_for(250ms);
  auto expected = [](std::size_t i) {
    return i % 3 == 0 || i % 6 == 2 ? std::nullopt : std::optional<Value>(i);
  };

  std::vector<std::size_t> order(total);
  std::iota(order.begin(), order.end(), 0);
  std::shuffle(order.begin(), order.end(), std::mt19937(7));
  // Each side of every statement size and of the split points.
  for (std::size_t n : {std::size_t{1}, std::size_t{2}, std::size_t{3}, std::size_t{255},
                        kGetManyMaxKeys - 1, kGetManyMaxKeys, kGetManyMaxKeys + 1,
                        2 * kGetManyMaxKeys, 2 * kGetManyMaxKeys + 1, total}) {
    std::vector<KvKey> asked;
    for (std::size_t j = 0; j < n; ++j) asked.push_back(keys[order[j]]);
    const auto values = store->get_many(asked);
    REQUIRE(values.size() == n);
    std::size_t right = 0;
    for (std::size_t j = 0; j < n; ++j) right += values[j] == expected(order[j]);
    INFO(url << ", " << n << " keys");
    CHECK(right == n);
  }
}

TEST_CASE("sqlite: get_many statements search the key index", "[sqlite][bulk][plan]") {
  TempDir dir;
  const std::string path = dir.file("plan.db");
  auto store = kvstore::open("sqlite:" + path + "?table=plan");
  std::vector<SetEntry> entries;
  for (int i = 0; i < 100; ++i) entries.push_back({{"p", std::to_string(i)}, i});
  store->set_many(entries);
  SQLite::Database db(path, SQLite::OPEN_READWRITE);
  db.exec("ANALYZE");
  const kvstore::sqlite::detail::Sql sql("plan");
  // 100 rows in the statistics: fewer than the larger statements' keys, for
  // which a plain IN list would be planned as a scan of the table.
  for (const std::string& statement : sql.get_many) {
    SQLite::Statement explain(db, "EXPLAIN QUERY PLAN " + statement);
    std::string plan;
    while (explain.executeStep()) plan += explain.getColumn(3).getString() + "\n";
    INFO(plan);
    CHECK(plan.find("SEARCH t USING INDEX sqlite_autoindex_plan_1 (k=?)") != std::string::npos);
    CHECK(plan.find("SCAN t") == std::string::npos);
  }
}

// Without the read transaction, a writer committing between two of
// get_many's statements would show a mix of two rounds.
TEST_CASE("sqlite: a get_many of several statements reads one snapshot",
          "[sqlite][bulk][concurrency]") {
  TempDir dir;
  const std::string url = "sqlite:" + dir.file("snapshot.db");
  auto writer_store = kvstore::open(url);
  auto reader_store = kvstore::open(url);
  const std::vector<KvKey> keys = numbered_keys("s", 2 * kGetManyMaxKeys + 10);
  auto round = [&](int n) {
    std::vector<SetEntry> entries;
    for (const KvKey& key : keys) entries.push_back({key, n});
    return entries;
  };
  writer_store->set_many(round(0));
  std::atomic<bool> stop{false};
  std::atomic<int> rounds{0};
  std::thread writer([&] {
    for (int n = 1; !stop.load(); ++n) {
      writer_store->set_many(round(n));
      rounds = n;
    }
  });
  int torn = 0;
  int reads = 0;
  const auto until = std::chrono::steady_clock::now() + 1s;
  while (std::chrono::steady_clock::now() < until || reads < 5) {
    const auto values = reader_store->get_many(keys);
    ++reads;
    if (std::any_of(values.begin(), values.end(),
                    [&](const auto& value) { return value != values.front(); })) {
      ++torn;
    }
  }
  stop = true;
  writer.join();
  INFO(reads << " reads over " << rounds.load() << " rounds of writes");
  CHECK(rounds.load() > 1);
  CHECK(torn == 0);
}

TEST_CASE("sqlite: set_many and remove_many are atomic", "[sqlite][bulk]") {
  TempDir dir;
  const std::string path = dir.file("atomic.db");
  auto store = kvstore::open("sqlite:" + path + "?table=t");
  store->set({"a"}, "old");
  SQLite::Database db(path, SQLite::OPEN_READWRITE);
  auto rows = [&] { return db.execAndGet("SELECT count(*) FROM t").getInt(); };
  // A trigger makes the third write of the batch fail inside SQLite.
  db.exec("CREATE TRIGGER boom BEFORE INSERT ON t WHEN NEW.k = " + blob_of({"bad"}) +
          " BEGIN SELECT RAISE(ABORT, 'refused'); END");
  const std::vector<SetEntry> batch = {{{"a"}, "new"}, {{"c"}, 1, {1h}}, {{"bad"}, 2}, {{"d"}, 3}};
  CHECK_THROWS_AS(store->set_many(batch), kvstore::Error);
  CHECK(store->get({"a"}) == Value("old"));
  CHECK_FALSE(store->get({"c"}).has_value());
  CHECK(rows() == 1);
  // The failed call's connection holds no transaction: another connection
  // (without a busy timeout) can write at once.
  db.exec("DROP TRIGGER boom");
  store->set_many(batch);
  CHECK(store->get({"a"}) == Value("new"));
  CHECK(rows() == 4);

  db.exec("CREATE TRIGGER boom BEFORE DELETE ON t WHEN OLD.k = " + blob_of({"bad"}) +
          " BEGIN SELECT RAISE(ABORT, 'refused'); END");
  const std::vector<KvKey> keys = {{"a"}, {"c"}, {"bad"}, {"d"}, {"missing"}};
  CHECK_THROWS_AS(store->remove_many(keys), kvstore::Error);
  CHECK(rows() == 4);
  CHECK(store->get_many(keys) == std::vector<std::optional<Value>>{Value("new"), Value(1), Value(2),
                                                                   Value(3), std::nullopt});
  db.exec("DROP TRIGGER boom");
  store->remove_many(keys);
  CHECK(rows() == 0);
}

TEST_CASE("sqlite: set_many sweeps expired rows as a set does", "[sqlite][bulk][ttl]") {
  TempDir dir;
  const std::string path = dir.file("sweep.db");
  {
    auto filler = kvstore::open("sqlite:" + path + "?table=s&sweep_interval=0");
    std::vector<SetEntry> entries;
    for (int i = 0; i < 450; ++i) entries.push_back({{"e", std::to_string(i)}, i, {300ms}});
    entries.push_back({{"keep"}, 1, {1h}});
    filler->set_many(entries);
  }
  auto store = kvstore::open("sqlite:" + path + "?table=s&sweep_interval=1ms&sweep_batch=100");
  SQLite::Database db(path);
  auto rows = [&] { return db.execAndGet("SELECT count(*) FROM s").getInt(); };
  CHECK(rows() == 451);
  std::this_thread::sleep_for(350ms);
  int writes = 0;
  while (rows() > 3 && writes < 50) {
    store->set_many({{{"w"}, writes}, {{"x"}, writes}});
    ++writes;
    std::this_thread::sleep_for(2ms);
  }
  CHECK(rows() == 3);  // "keep", "w" and "x"
  CHECK(writes >= 5);  // 100 rows per sweep, at most one sweep per call
  CHECK(store->get({"keep"}) == Value(1));
}
