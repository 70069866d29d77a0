// kvstore's postgres driver against raw libpqxx running the same prepared
// statements on the same table, in one run.
//
//   kvstore_postgres_bench [seconds-per-case] [threads...]     (default: 2 1 8)
//
// Needs KVSTORE_TEST_POSTGRES_URL. Each case runs for the given time with
// every thread looping one operation on 1 KiB JSON values; prints ops/s.
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <kvstore/driver.h>
#include <kvstore/kvstore.h>
#include <pqxx/pqxx>

namespace {

using Clock = std::chrono::steady_clock;

constexpr int kKeys = 1000;
constexpr int kGroups = 100;  // list: 100 prefixes of 10 entries each

std::string table_name() { return "kvbench_pg_" + std::to_string(::getpid()); }

// A 1 KiB JSON object, canonical (sorted members, compact) so set_json and
// set store the same bytes and cas hits the one-statement fast path.
kvstore::Value document(int version) {
  return kvstore::Value{{"id", "https://example.com/notes/" + std::to_string(version)},
                        {"content", std::string(940, 'x')},
                        {"type", "Note"},
                        {"version", version}};
}

struct Raw {
  explicit Raw(const std::string& url, const std::string& table) : db(url) {
    pqxx::nontransaction tx(db);
    // The session settings the driver uses, so the plans are the same.
    tx.exec("SET plan_cache_mode = force_generic_plan");
    const std::string t = tx.quote_name(table);
    const std::string live = "(expires_at IS NULL OR expires_at > now())";
    db.prepare("get", "SELECT v FROM " + t + " WHERE k = $1 AND " + live);
    db.prepare("set", "INSERT INTO " + t +
                          " AS cur (k, v, expires_at) VALUES ($1, $2, now() + $3::bigint * "
                          "interval '1 millisecond') ON CONFLICT (k) DO UPDATE SET v = "
                          "EXCLUDED.v, expires_at = EXCLUDED.expires_at");
    db.prepare("cas", "UPDATE " + t +
                          " SET v = $3, expires_at = now() + $4::bigint * interval '1 millisecond'"
                          " WHERE k = $1 AND v = $2 AND " +
                          live);
    db.prepare("list", "SELECT k, v FROM " + t + " WHERE k >= $1 AND k < $2 AND " + live +
                           " ORDER BY k LIMIT $3");
  }
  pqxx::connection db;
};

double process_cpu_seconds() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& tv) { return tv.tv_sec + tv.tv_usec / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// Client CPU (user + system, this process) per operation of the last measure():
// the client library's own cost, which the server's load does not disturb.
double last_cpu_us_per_op = 0;

// Runs `op(thread, i)` on `threads` threads for `seconds`; returns ops/s.
double measure(int threads, double seconds, const std::function<void(int, long)>& op) {
  std::atomic<bool> stop{false};
  std::atomic<long> total{0};
  std::vector<std::thread> pool;
  const auto start = Clock::now();
  const double cpu_start = process_cpu_seconds();
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      long n = 0;
      while (!stop.load(std::memory_order_relaxed)) op(t, n++);
      total += n;
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& th : pool) th.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  last_cpu_us_per_op = (process_cpu_seconds() - cpu_start) * 1e6 / std::max(1L, total.load());
  return static_cast<double>(total.load()) / elapsed;
}

// Runs the cases round-robin `rounds` times and keeps each one's best rate:
// on a shared machine the best of interleaved runs is the least disturbed.
// Also prints each case's lowest client CPU per operation.
std::vector<double> best_of(const char* name, int rounds, int threads, double seconds,
                            const std::vector<std::function<void(int, long)>>& cases) {
  std::vector<double> best(cases.size(), 0.0);
  std::vector<double> cpu(cases.size(), 1e12);
  for (int r = 0; r < rounds; ++r) {
    for (std::size_t c = 0; c < cases.size(); ++c) {
      best[c] = std::max(best[c], measure(threads, seconds, cases[c]));
      cpu[c] = std::min(cpu[c], last_cpu_us_per_op);
    }
  }
  std::printf("  client CPU us/op %-5s:", name);
  for (double c : cpu) std::printf(" %7.1f", c);
  std::printf("   (raw, kvstore%s)\n", cases.size() == 3 ? " json, kvstore Value" : " Value");
  std::fflush(stdout);
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  const char* env = std::getenv("KVSTORE_TEST_POSTGRES_URL");
  if (env == nullptr) {
    std::fprintf(stderr, "KVSTORE_TEST_POSTGRES_URL is not set\n");
    return 2;
  }
  const std::string url = env;
  const double seconds = argc > 1 ? std::atof(argv[1]) : 2.0;
  std::vector<int> thread_counts;
  for (int i = 2; i < argc; ++i) thread_counts.push_back(std::atoi(argv[i]));
  if (thread_counts.empty()) thread_counts = {1, 8};

  const std::string table = table_name();
  const char* extra = std::getenv("KVBENCH_PARAMS");  // e.g. "statement_timeout=0"
  auto store = kvstore::open(url + "?table=" + table + "&pool_size=8" +
                             (extra != nullptr && *extra != '\0' ? "&" + std::string(extra) : ""));
  const std::string text = kvstore::to_json_text(document(0));
  std::printf("value: %zu bytes of JSON; table %s\n", text.size(), table.c_str());
  for (int i = 0; i < kKeys; ++i) store->set_json({"bench", std::to_string(i)}, text);
  for (int g = 0; g < kGroups; ++g) {
    for (int i = 0; i < 10; ++i) {
      store->set_json({"list", std::to_string(g), std::to_string(i)}, text);
    }
  }
  std::vector<std::string> encoded;
  for (int i = 0; i < kKeys; ++i)
    encoded.push_back(kvstore::encode_key({"bench", std::to_string(i)}));
  std::vector<kvstore::KeyRange> ranges;
  for (int g = 0; g < kGroups; ++g) {
    ranges.push_back(kvstore::list_range({"list", std::to_string(g)}, std::nullopt));
  }
  const kvstore::Value doc_a = document(1), doc_b = document(2);
  const std::string text_a = kvstore::to_json_text(doc_a), text_b = kvstore::to_json_text(doc_b);

  for (int threads : thread_counts) {
    std::vector<std::unique_ptr<Raw>> raw;
    for (int t = 0; t < threads; ++t) raw.push_back(std::make_unique<Raw>(url, table));
    // Warm both sides (connections open, statements prepared).
    measure(threads, 0.2, [&](int t, long n) {
      pqxx::nontransaction tx(raw[t]->db);
      tx.exec_prepared("get", encoded[n % kKeys]);
      store->get_json({"bench", std::to_string(n % kKeys)});
    });
    auto key_of = [&](int t, long n) { return static_cast<int>((n * 7919 + t * 131) % kKeys); };
    // cas: thread t owns keys with index % threads == t and flips them a<->b.
    auto cas_key = [&](int t, long n) { return static_cast<int>((n * threads + t) % kKeys); };
    auto reset_cas_keys = [&] {
      for (int i = 0; i < kKeys; ++i) store->set_json({"bench", std::to_string(i)}, text_a);
    };
    struct Row {
      const char* name;
      double raw, json, value;
    };
    std::vector<Row> rows;

    constexpr int kRounds = 3;
    {  // get
      auto b = best_of("get", kRounds, threads, seconds,
                       {[&](int t, long n) {
                          pqxx::nontransaction tx(raw[t]->db);
                          pqxx::result res = tx.exec_prepared("get", encoded[key_of(t, n)]);
                          std::string v(res[0][0].c_str(), res[0][0].size());
                        },
                        [&](int t, long n) {
                          store->get_json({"bench", std::to_string(key_of(t, n))});
                        },
                        [&](int t, long n) {
                          store->get({"bench", std::to_string(key_of(t, n))});
                        }});
      rows.push_back({"get", b[0], b[1], b[2]});
    }
    {  // set
      auto b = best_of("set", kRounds, threads, seconds,
                       {[&](int t, long n) {
                          pqxx::nontransaction tx(raw[t]->db);
                          tx.exec_prepared("set", encoded[key_of(t, n)], text, nullptr);
                        },
                        [&](int t, long n) {
                          store->set_json({"bench", std::to_string(key_of(t, n))}, text);
                        },
                        [&](int t, long n) {
                          store->set({"bench", std::to_string(key_of(t, n))}, doc_a);
                        }});
      rows.push_back({"set", b[0], b[1], b[2]});
    }
    {  // cas (always succeeds: each thread flips its own keys; both sides share the state)
      reset_cas_keys();
      std::vector<std::vector<char>> state(threads, std::vector<char>(kKeys, 0));
      auto b = best_of(
          "cas", kRounds, threads, seconds,
          {[&](int t, long n) {
             const int k = cas_key(t, n);
             char& s = state[t][k];
             pqxx::nontransaction tx(raw[t]->db);
             pqxx::result res = tx.exec_prepared("cas", encoded[k], s ? text_b : text_a,
                                                 s ? text_a : text_b, nullptr);
             if (res.affected_rows() != 1) std::abort();
             s = !s;
           },
           [&](int t, long n) {
             const int k = cas_key(t, n);
             char& s = state[t][k];
             if (!store->cas({"bench", std::to_string(k)}, s ? doc_b : doc_a, s ? doc_a : doc_b)) {
               std::abort();
             }
             s = !s;
           }});
      rows.push_back({"cas", b[0], 0, b[1]});
    }
    {  // list: a prefix with 10 entries, one page
      auto b = best_of(
          "list", kRounds, threads, seconds,
          {[&](int t, long n) {
             const auto& range = ranges[key_of(t, n) % kGroups];
             pqxx::nontransaction tx(raw[t]->db);
             pqxx::result res = tx.exec_prepared("list", range.begin, *range.end, 256);
             std::vector<std::pair<kvstore::KvKey, std::string>> out;
             for (const pqxx::row& row : res) {
               out.emplace_back(
                   kvstore::decode_key(std::string_view(row[0].c_str(), row[0].size())),
                   std::string(row[1].c_str(), row[1].size()));
             }
             if (out.size() != 10) std::abort();
           },
           [&](int t, long n) {
             int count = 0;
             for (const auto& e :
                  store->list_json({"list", std::to_string(key_of(t, n) % kGroups)})) {
               (void)e;
               ++count;
             }
             if (count != 10) std::abort();
           },
           [&](int t, long n) {
             int count = 0;
             for (const auto& e : store->list({"list", std::to_string(key_of(t, n) % kGroups)})) {
               (void)e;
               ++count;
             }
             if (count != 10) std::abort();
           }});
      rows.push_back({"list", b[0], b[1], b[2]});
    }
    std::printf("\n%d thread(s), best of %d interleaved %.1fs runs, ops/s:\n", threads, kRounds,
                seconds);
    std::printf("%-5s %12s %14s %8s %14s %8s\n", "op", "raw libpqxx", "kvstore json", "ratio",
                "kvstore Value", "ratio");
    for (const Row& row : rows) {
      if (row.json > 0) {
        std::printf("%-5s %12.0f %14.0f %8.2f %14.0f %8.2f\n", row.name, row.raw, row.json,
                    row.json / row.raw, row.value, row.value / row.raw);
      } else {
        std::printf("%-5s %12.0f %14s %8s %14.0f %8.2f\n", row.name, row.raw, "-", "-", row.value,
                    row.value / row.raw);
      }
    }
    std::fflush(stdout);
  }
  {  // The value column: text (what the driver uses) against jsonb.
    pqxx::connection db(url);
    pqxx::nontransaction tx(db);
    tx.exec("SET plan_cache_mode = force_generic_plan");
    try {
      tx.exec("SELECT '\"a\\u0000b\"'::jsonb");
      std::printf("\njsonb accepted \\u0000\n");
    } catch (const pqxx::sql_error& e) {
      std::printf("\njsonb and \\u0000: %s", e.what());
    }
    std::printf("\nvalue column, 1 thread, raw libpqxx upsert/get of 1 KiB, ops/s:\n");
    for (const char* type : {"text", "jsonb"}) {
      const std::string t = tx.quote_name(table + "_" + type);
      tx.exec("CREATE TABLE " + t + " (k text COLLATE \"C\" PRIMARY KEY, v " + type +
              " NOT NULL, expires_at timestamptz)");
      db.prepare(std::string("set_") + type,
                 "INSERT INTO " + t +
                     " (k, v) VALUES ($1, $2) ON CONFLICT (k) DO UPDATE SET v = "
                     "EXCLUDED.v, expires_at = NULL");
      db.prepare(std::string("get_") + type, "SELECT v FROM " + t + " WHERE k = $1");
    }
    for (int round = 0; round < 3; ++round) {  // alternate to even out noise
      for (const char* type : {"text", "jsonb"}) {
        const std::string set = std::string("set_") + type, get = std::string("get_") + type;
        double w = measure(1, seconds,
                           [&](int, long n) { tx.exec_prepared(set, encoded[n % kKeys], text); });
        double r = measure(1, seconds, [&](int, long n) {
          pqxx::result res = tx.exec_prepared(get, encoded[n % kKeys]);
          std::string v(res[0][0].c_str(), res[0][0].size());
        });
        std::printf("  %-5s set %8.0f   get %8.0f\n", type, w, r);
      }
    }
    for (const char* type : {"text", "jsonb"}) {
      tx.exec("DROP TABLE " + tx.quote_name(table + "_" + type));
    }
    tx.exec("DROP TABLE " + tx.quote_name(table));
  }
  return 0;
}
