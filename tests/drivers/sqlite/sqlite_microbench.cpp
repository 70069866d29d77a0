// A micro-measurement: the SQLite driver against raw sqlite3 prepared
// statements doing the same work on the same schema, in one run, one thread.
//
//   kvstore_sqlite_microbench [directory] [operations] [mmap MiB]
//
// For each layout (the driver's rowid table, and a WITHOUT ROWID table for
// comparison) it times, with a 1 KiB JSON value: set, get, and listing a
// 1,000-entry prefix, through raw statements, through the zero-parse calls
// (set_json/get_json/list_json) and through the JSON calls (set/get/list).
#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <kvstore/driver.h>
#include <kvstore/kvstore.h>

namespace {

using Clock = std::chrono::steady_clock;

double once(std::size_t n, const std::function<void(std::size_t)>& body) {
  const auto start = Clock::now();
  for (std::size_t i = 0; i < n; ++i) body(i);
  const std::chrono::duration<double> took = Clock::now() - start;
  return static_cast<double>(n) / took.count();
}

// The three ways of doing one operation, timed in alternation, best of
// three rounds each: the machine's load then affects all of them alike.
void measure(std::size_t n, double (&out)[3],
             const std::array<std::function<void(std::size_t)>, 3>& bodies) {
  for (double& o : out) o = 0;
  for (int round = 0; round < 3; ++round) {
    for (int way = 0; way < 3; ++way) out[way] = std::max(out[way], once(n, bodies[way]));
  }
}

void check(int rc, sqlite3* db, const char* what) {
  if (rc != SQLITE_OK && rc != SQLITE_ROW && rc != SQLITE_DONE) {
    std::fprintf(stderr, "%s: %s\n", what, sqlite3_errmsg(db));
    std::exit(1);
  }
}

sqlite3_stmt* prepare(sqlite3* db, const std::string& sql) {
  sqlite3_stmt* s = nullptr;
  check(sqlite3_prepare_v3(db, sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &s, nullptr), db,
        sql.c_str());
  return s;
}

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

kvstore::Value document() {
  kvstore::Value doc = {
      {"@context", {"https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"}},
      {"id", "https://example.social/users/alice/statuses/110000000000000001"},
      {"type", "Note"},
      {"attributedTo", "https://example.social/users/alice"},
      {"to", {"https://www.w3.org/ns/activitystreams#Public"}},
      {"cc", {"https://example.social/users/alice/followers"}},
      {"published", "2024-01-01T00:00:00Z"},
      {"sensitive", false},
      {"tag", kvstore::Value::array()},
  };
  std::string content;
  while (doc.dump().size() + content.size() < 1000) content += "lorem ipsum dolor sit amet ";
  doc["content"] = content.substr(0, 1024 - doc.dump().size() - 14);
  return doc;
}

struct Row {
  const char* name;
  double raw;
  double json_text;
  double json_value;
};

void print(const char* layout, const std::vector<Row>& rows) {
  std::printf("\n%s\n%-22s %14s %14s %14s %9s %9s\n", layout, "operation", "raw sqlite3",
              "kvstore text", "kvstore JSON", "text/raw", "JSON/raw");
  for (const Row& r : rows) {
    std::printf("%-22s %12.0f/s %12.0f/s %12.0f/s %8.0f%% %8.0f%%\n", r.name, r.raw, r.json_text,
                r.json_value, 100 * r.json_text / r.raw, 100 * r.json_value / r.raw);
  }
}

void run(const std::string& path, const std::string& table, bool without_rowid, std::size_t n,
         std::size_t mmap_size) {
  const std::string t = "\"" + table + "\"";
  sqlite3* db = nullptr;
  check(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr), db,
        "open");
  sqlite3_busy_timeout(db, 5000);
  const std::string pragmas =
      "PRAGMA journal_mode=wal; PRAGMA synchronous=normal; "
      "PRAGMA mmap_size=" +
      std::to_string(mmap_size);
  check(sqlite3_exec(db, pragmas.c_str(), nullptr, nullptr, nullptr), db, "pragma");
  const std::string create = "CREATE TABLE IF NOT EXISTS " + t +
                             " (k BLOB NOT NULL PRIMARY KEY, v TEXT NOT NULL, expires_at INTEGER)" +
                             (without_rowid ? " WITHOUT ROWID" : "") +
                             "; CREATE INDEX IF NOT EXISTS \"" + table + "_expires_at\" ON " + t +
                             " (expires_at) WHERE expires_at IS NOT NULL";
  check(sqlite3_exec(db, create.c_str(), nullptr, nullptr, nullptr), db, "create");
  auto store = kvstore::open("sqlite:" + path + "?table=" + table +
                             "&mmap_size=" + std::to_string(mmap_size));

  const kvstore::Value value = document();
  const std::string text = value.dump();
  std::vector<kvstore::KvKey> keys;
  std::vector<std::string> encoded;
  for (std::size_t i = 0; i < n; ++i) {
    keys.push_back({"bench", "key" + std::to_string(i)});
    encoded.push_back(kvstore::encode_key(keys.back()));
  }

  sqlite3_stmt* upsert =
      prepare(db, "INSERT INTO " + t +
                      " (k, v, expires_at) VALUES (?1, ?2, ?3) ON CONFLICT (k) DO "
                      "UPDATE SET v = excluded.v, expires_at = excluded.expires_at");
  sqlite3_stmt* get = prepare(
      db, "SELECT v FROM " + t + " WHERE k = ?1 AND (expires_at IS NULL OR expires_at > ?2)");
  sqlite3_stmt* list = prepare(db, "SELECT k, v FROM " + t +
                                       " WHERE k >= ?1 AND k < ?2 AND (expires_at IS NULL OR "
                                       "expires_at > ?3) ORDER BY k LIMIT ?4");

  // Every key exists before timing starts, so each set overwrites.
  for (std::size_t i = 0; i < n; ++i) store->set_json(keys[i], text);

  std::vector<Row> rows;
  std::size_t sink = 0;
  double r[3];
  measure(n, r,
          {[&](std::size_t i) {
             sqlite3_bind_blob(upsert, 1, encoded[i].data(), static_cast<int>(encoded[i].size()),
                               SQLITE_STATIC);
             sqlite3_bind_text(upsert, 2, text.data(), static_cast<int>(text.size()),
                               SQLITE_STATIC);
             sqlite3_bind_null(upsert, 3);
             check(sqlite3_step(upsert), db, "upsert");
             sqlite3_reset(upsert);
           },
           [&](std::size_t i) { store->set_json(keys[i], text); },
           [&](std::size_t i) { store->set(keys[i], value); }});
  rows.push_back({"set (1 KiB)", r[0], r[1], r[2]});

  measure(n, r,
          {[&](std::size_t i) {
             sqlite3_bind_blob(get, 1, encoded[i].data(), static_cast<int>(encoded[i].size()),
                               SQLITE_STATIC);
             sqlite3_bind_int64(get, 2, now_ms());
             if (sqlite3_step(get) == SQLITE_ROW) {
               // A caller needs the text in its own memory, as get_json() returns it.
               std::string v(reinterpret_cast<const char*>(sqlite3_column_text(get, 0)),
                             static_cast<std::size_t>(sqlite3_column_bytes(get, 0)));
               sink += v.size();
             }
             sqlite3_reset(get);
           },
           [&](std::size_t i) { sink += store->get_json(keys[i])->size(); },
           [&](std::size_t i) { sink += store->get(keys[i])->size(); }});
  rows.push_back({"get (1 KiB)", r[0], r[1], r[2]});

  // 1,000 entries under one prefix, listed whole.
  const std::size_t per_list = 1000;
  for (std::size_t i = 0; i < per_list; ++i) {
    store->set_json({"list", "item" + std::to_string(1000000 + i)}, text);
  }
  const kvstore::KeyRange range = kvstore::list_range({"list"}, std::nullopt);
  const std::size_t lists = std::max<std::size_t>(n / 500, 10);
  measure(lists, r,
          {[&](std::size_t) {
             sqlite3_bind_blob(list, 1, range.begin.data(), static_cast<int>(range.begin.size()),
                               SQLITE_STATIC);
             sqlite3_bind_blob(list, 2, range.end->data(), static_cast<int>(range.end->size()),
                               SQLITE_STATIC);
             sqlite3_bind_int64(list, 3, now_ms());
             sqlite3_bind_int64(list, 4, 1001);
             std::size_t count = 0;
             while (sqlite3_step(list) == SQLITE_ROW) {
               // The same work a caller gets from list_json(): decoded key, text copy.
               kvstore::KvKey key =
                   kvstore::decode_key({static_cast<const char*>(sqlite3_column_blob(list, 0)),
                                        static_cast<std::size_t>(sqlite3_column_bytes(list, 0))});
               std::string v(reinterpret_cast<const char*>(sqlite3_column_text(list, 1)),
                             static_cast<std::size_t>(sqlite3_column_bytes(list, 1)));
               sink += key.size() + v.size();
               ++count;
             }
             sqlite3_reset(list);
             if (count != per_list) std::exit(2);
           },
           [&](std::size_t) {
             std::size_t count = 0;
             for (const kvstore::JsonEntry& e : store->list_json({"list"}))
               count += !e.json.empty();
             if (count != per_list) std::exit(3);
           },
           [&](std::size_t) {
             std::size_t count = 0;
             for (const kvstore::Entry& e : store->list({"list"})) count += !e.value.is_null();
             if (count != per_list) std::exit(4);
           }});
  rows.push_back({"list 1,000 entries", r[0], r[1], r[2]});

  print((table +
         (without_rowid ? " (WITHOUT ROWID table, for comparison)"
                        : " (rowid table: the driver's layout)") +
         ", mmap_size=" + std::to_string(mmap_size >> 20) + "MiB")
            .c_str(),
        rows);
  if (sink == 42) std::printf(" ");
  sqlite3_finalize(upsert);
  sqlite3_finalize(get);
  sqlite3_finalize(list);
  sqlite3_close(db);
}

}  // namespace

int main(int argc, char** argv) {
  const std::string dir = argc > 1 ? argv[1] : std::filesystem::temp_directory_path().string();
  const std::size_t n = argc > 2 ? std::stoul(argv[2]) : 20000;
  const std::string path = dir + "/kvstore-sqlite-microbench.db";
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
  std::printf("SQLite %s, %zu operations per row, one thread, ops/s\n", sqlite3_libversion(), n);
  const std::size_t mmap_size = argc > 3 ? std::stoul(argv[3]) << 20 : 256u << 20;
  run(path, "kv_without_rowid", true, n, mmap_size);
  run(path, "kv_rowid", false, n, mmap_size);
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
  return 0;
}
