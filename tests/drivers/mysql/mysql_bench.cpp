// kvstore_mysql_bench: the MySQL driver against raw Connector/C++ running the
// same prepared statements on the same schema, in one run.
//
//   kvstore_mysql_bench [seconds-per-run=1]   (each case: median of 3 runs)     (URL from
//   KVSTORE_TEST_MYSQL_URL)
//
// Cases: get, set, cas, list (10 entries), each with 1 and 8 threads, for
//   raw   - Connector/C++ prepared statements, one connection per thread;
//   json  - KvStore::get/set/cas/list (nlohmann::json values);
//   text  - KvStore::get_json/set_json/list_json (cas has no text form).
// The value is a 1 KiB JSON object.
#include <cppconn/connection.h>
#include <cppconn/driver.h>
#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>
#include <cppconn/statement.h>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <barrier>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <thread>

#include <kvstore/driver.h>
#include <kvstore/kvstore.h>

namespace {

using Clock = std::chrono::steady_clock;

#define NOW_MS "CAST(UNIX_TIMESTAMP(NOW(3)) * 1000 AS SIGNED)"
#define LIVE "(expires_at IS NULL OR expires_at > " NOW_MS ")"

std::string base_url;
std::string table;
double seconds = 1;
std::mutex driver_mutex;

kvstore::Value document(int n) {
  kvstore::Value v = {{"@context", "https://www.w3.org/ns/activitystreams"},
                      {"type", "Note"},
                      {"id", "https://example.com/notes/" + std::to_string(n)},
                      {"attributedTo", "https://example.com/users/alice"},
                      {"published", "2024-01-01T00:00:00Z"},
                      {"n", n}};
  std::string content(1024 - v.dump().size() - 14, 'x');
  v["content"] = content;
  return v;
}

std::unique_ptr<sql::Connection> raw_connect() {
  kvstore::Url url = kvstore::Url::parse(base_url);
  sql::ConnectOptionsMap o;
  o["hostName"] = sql::SQLString("tcp://" + url.host());
  o["port"] = static_cast<int>(url.port().value_or(3306));
  o["userName"] = sql::SQLString(url.user());
  o["password"] = sql::SQLString(url.password().value_or(""));
  o["schema"] = sql::SQLString(url.path().substr(1));
  o["OPT_CHARSET_NAME"] = sql::SQLString("utf8mb4");
  o["CLIENT_FOUND_ROWS"] = false;
  std::unique_ptr<sql::Connection> c;
  {
    std::lock_guard lock(driver_mutex);
    c.reset(get_driver_instance()->connect(o));
  }
  std::unique_ptr<sql::Statement> s(c->createStatement());
  s->execute("SET SESSION time_zone = '+00:00'");
  return c;
}

// Runs `op(thread, i)` on `threads` threads for `seconds`; returns ops/s.
double measure_once(int threads, const std::function<std::function<void(long)>(int)>& make) {
  std::vector<std::function<void(long)>> ops;
  for (int t = 0; t < threads; ++t) ops.push_back(make(t));
  std::atomic<long> total{0};
  std::atomic<bool> stop{false};
  std::barrier start(threads + 1);
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      start.arrive_and_wait();
      long i = 0;
      while (!stop.load(std::memory_order_relaxed)) ops[t](i++);
      total += i;
    });
  }
  start.arrive_and_wait();
  const auto begin = Clock::now();
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& th : pool) th.join();
  return total / std::chrono::duration<double>(Clock::now() - begin).count();
}

using Maker = std::function<std::function<void(long)>(int)>;

// The machine may be shared and its load may drift: the clients of one case
// run in turns (raw, json, text, raw, ...) kRounds times; medians count.
constexpr int kRounds = 5;
std::vector<double> measure(int threads, const std::vector<Maker>& makers) {
  std::vector<std::vector<double>> runs(makers.size());
  for (int i = 0; i < kRounds; ++i) {
    for (std::size_t m = 0; m < makers.size(); ++m)
      runs[m].push_back(measure_once(threads, makers[m]));
  }
  std::vector<double> medians;
  for (auto& r : runs) {
    std::sort(r.begin(), r.end());
    medians.push_back(r[kRounds / 2]);
  }
  return medians;
}

std::string key_text(const kvstore::KvKey& key) { return kvstore::encode_key(key); }

}  // namespace

int main(int argc, char** argv) {
  const char* env = std::getenv("KVSTORE_TEST_MYSQL_URL");
  if (env == nullptr) {
    std::fprintf(stderr, "set KVSTORE_TEST_MYSQL_URL\n");
    return 2;
  }
  if (argc > 1) seconds = std::atof(argv[1]);
  base_url = env;
  table = "kvbench_" + std::to_string(::getpid());
  const std::string t = "`" + table + "`";
  auto store = kvstore::open(base_url + (base_url.find('?') == std::string::npos ? "?" : "&") +
                             "table=" + table + "&pool_size=8");

  const kvstore::Value doc = document(1);
  const std::string doc_text = doc.dump();
  const std::string doc_text2 = document(2).dump();
  // Data: 100 keys to read, 10 under each list prefix.
  for (int i = 0; i < 100; ++i) store->set({"get", std::to_string(i)}, doc);
  for (int i = 0; i < 10; ++i) store->set({"list", std::to_string(i)}, doc);
  for (int th = 0; th < 8; ++th) store->set({"cas", std::to_string(th)}, doc);

  const std::string sql_get = "SELECT v FROM " + t + " WHERE k = ? AND " LIVE;
  const std::string sql_set = "INSERT INTO " + t +
                              " (k, v, expires_at) VALUES (?, ?, NULL) ON DUPLICATE KEY UPDATE "
                              "v = VALUES(v), expires_at = NULL";
  const std::string sql_cas =
      "UPDATE " + t + " SET v = ?, expires_at = NULL WHERE k = ? AND v = ? AND " LIVE;
  const std::string sql_list =
      "SELECT k, v FROM " + t + " WHERE k >= ? AND k < ? AND " LIVE " ORDER BY k LIMIT ?";
  const kvstore::KeyRange list_range = kvstore::list_range({"list"}, std::nullopt);

  struct RawThread {
    std::unique_ptr<sql::Connection> conn;
    std::unique_ptr<sql::PreparedStatement> get, set, cas, list;
    std::string current;
  };
  auto raw_thread = [&](int th) {
    auto r = std::make_shared<RawThread>();
    r->conn = raw_connect();
    r->get.reset(r->conn->prepareStatement(sql_get));
    r->set.reset(r->conn->prepareStatement(sql_set));
    r->cas.reset(r->conn->prepareStatement(sql_cas));
    r->list.reset(r->conn->prepareStatement(sql_list));
    r->current = doc_text;
    (void)th;
    return r;
  };

  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  std::printf("%-6s %7s %12s %12s %12s %10s %10s\n", "op", "threads", "raw ops/s", "json ops/s",
              "text ops/s", "json/raw", "text/raw");
  for (int threads : {1, 8}) {
    // get
    Maker raw_maker = Maker([&](int th) {
      auto r = raw_thread(th);
      return std::function<void(long)>([r](long i) {
        r->get->setString(1, key_text({"get", std::to_string(i % 100)}));
        std::unique_ptr<sql::ResultSet> rs(r->get->executeQuery());
        if (rs->next()) {
          std::string v = rs->getString(1);
          if (v.empty()) std::abort();
        }
      });
    });
    Maker json_maker = Maker([&](int) {
      return std::function<void(long)>([&](long i) {
        if (!store->get({"get", std::to_string(i % 100)})) std::abort();
      });
    });
    Maker text_maker = Maker([&](int) {
      return std::function<void(long)>([&](long i) {
        if (!store->get_json({"get", std::to_string(i % 100)})) std::abort();
      });
    });
    std::vector<double> r = measure(threads, {raw_maker, json_maker, text_maker});
    double raw = r[0], json = r[1], text = r[2];
    std::printf("%-6s %7d %12.0f %12.0f %12.0f %10.2f %10.2f\n", "get", threads, raw, json, text,
                json / raw, text / raw);

    // set
    raw_maker = Maker([&](int th) {
      auto r = raw_thread(th);
      return std::function<void(long)>([r, th, &doc_text](long i) {
        r->set->setString(1, key_text({"set", std::to_string(th), std::to_string(i % 100)}));
        r->set->setString(2, doc_text);
        r->set->executeUpdate();
      });
    });
    json_maker = Maker([&](int th) {
      return std::function<void(long)>([&, th](long i) {
        store->set({"set", std::to_string(th), std::to_string(i % 100)}, doc);
      });
    });
    text_maker = Maker([&](int th) {
      return std::function<void(long)>([&, th](long i) {
        store->set_json({"set", std::to_string(th), std::to_string(i % 100)}, doc_text);
      });
    });
    r = measure(threads, {raw_maker, json_maker, text_maker});
    raw = r[0], json = r[1], text = r[2];
    std::printf("%-6s %7d %12.0f %12.0f %12.0f %10.2f %10.2f\n", "set", threads, raw, json, text,
                json / raw, text / raw);

    // cas: swap the value this thread knows is stored for the other document.
    // KvStore::cas first tries a byte-exact swap with the canonical text, so
    // both sides do one UPDATE per cas.
    for (int th = 0; th < 8; ++th) store->set({"cas", std::to_string(th)}, doc);
    raw_maker = Maker([&](int th) {
      auto r = raw_thread(th);
      r->current = *store->get_json({"cas", std::to_string(th)});  // left by the previous run
      return std::function<void(long)>([r, th, &doc_text, &doc_text2](long) {
        const std::string& next = r->current == doc_text ? doc_text2 : doc_text;
        r->cas->setString(1, next);
        r->cas->setString(2, key_text({"cas", std::to_string(th)}));
        r->cas->setString(3, r->current);
        if (r->cas->executeUpdate() != 1) std::abort();
        r->current = next;
      });
    });
    const kvstore::Value doc2 = document(2);
    json_maker = Maker([&](int th) {
      auto current = std::make_shared<kvstore::Value>(*store->get({"cas", std::to_string(th)}));
      return std::function<void(long)>([&, th, current](long) {
        const kvstore::Value& next = *current == doc ? doc2 : doc;
        if (!store->cas({"cas", std::to_string(th)}, *current, next)) std::abort();
        *current = next;
      });
    });
    r = measure(threads, {raw_maker, json_maker});
    raw = r[0], json = r[1];
    std::printf("%-6s %7d %12.0f %12.0f %12s %10.2f %10s\n", "cas", threads, raw, json, "-",
                json / raw, "-");

    // list: the 10 entries under {"list"}
    raw_maker = Maker([&](int th) {
      auto r = raw_thread(th);
      return std::function<void(long)>([r, &list_range](long) {
        r->list->setString(1, list_range.begin);
        r->list->setString(2, *list_range.end);
        r->list->setInt64(3, 256);
        std::unique_ptr<sql::ResultSet> rs(r->list->executeQuery());
        int n = 0;
        while (rs->next()) {
          std::string k = rs->getString(1);
          std::string v = rs->getString(2);
          ++n;
        }
        if (n != 10) std::abort();
      });
    });
    json_maker = Maker([&](int) {
      return std::function<void(long)>([&](long) {
        int n = 0;
        for (const kvstore::Entry& e : store->list({"list"})) n += e.value.is_object();
        if (n != 10) std::abort();
      });
    });
    text_maker = Maker([&](int) {
      return std::function<void(long)>([&](long) {
        int n = 0;
        for (const auto& e : store->list_json({"list"})) n += !e.json.empty();
        if (n != 10) std::abort();
      });
    });
    r = measure(threads, {raw_maker, json_maker, text_maker});
    raw = r[0], json = r[1], text = r[2];
    std::printf("%-6s %7d %12.0f %12.0f %12.0f %10.2f %10.2f\n", "list", threads, raw, json, text,
                json / raw, text / raw);
  }
  auto conn = raw_connect();
  std::unique_ptr<sql::Statement> s(conn->createStatement());
  s->execute("DROP TABLE " + t);
  return 0;
}
