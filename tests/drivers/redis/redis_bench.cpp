// Raw hiredis vs the kvstore Redis driver, get and set of a 1 KiB JSON value,
// in one run, with 1 and N threads.
//
//   kvstore_redis_bench [seconds-per-run=2] [threads=8] [rounds=5]
//
// Reads the server from KVSTORE_TEST_REDIS_URL. Raw hiredis gets one
// connection per thread (the best case for it); kvstore shares one store.
#include <hiredis/hiredis.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <kvstore/driver.h>
#include <kvstore/kvstore.h>

namespace {

constexpr int kKeys = 1000;

struct ContextDeleter {
  void operator()(redisContext* c) const { redisFree(c); }
};
using Context = std::unique_ptr<redisContext, ContextDeleter>;

kvstore::Url server;

Context raw_connect() {
  Context c(redisConnect(server.host().c_str(), server.port().value_or(6379)));
  if (!c || c->err) {
    std::fprintf(stderr, "cannot connect\n");
    std::exit(1);
  }
  if (server.password()) {
    freeReplyObject(
        redisCommand(c.get(), "AUTH %s %s", server.user().c_str(), server.password()->c_str()));
  }
  return c;
}

double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

struct Result {
  double ops_per_second;
  double client_cpu_us_per_op;  // this process's CPU per call: independent of machine load
};

// Runs `op(thread, i)` on `threads` threads for `seconds`.
Result run(int threads, double seconds, const std::function<void(int, long)>& op) {
  std::atomic<bool> stop{false};
  std::atomic<long> total{0};
  std::atomic<long> cpu_ns{0};
  std::vector<std::thread> pool;
  auto start = std::chrono::steady_clock::now();
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      long n = 0;
      double cpu = thread_cpu_seconds();
      while (!stop.load(std::memory_order_relaxed)) op(t, n++);
      cpu_ns += static_cast<long>((thread_cpu_seconds() - cpu) * 1e9);
      total += n;
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& th : pool) th.join();
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return {static_cast<double>(total) / elapsed,
          static_cast<double>(cpu_ns) / 1e3 / static_cast<double>(std::max(1L, total.load()))};
}

}  // namespace

int main(int argc, char** argv) {
  const char* url = std::getenv("KVSTORE_TEST_REDIS_URL");
  if (url == nullptr) {
    std::fprintf(stderr, "KVSTORE_TEST_REDIS_URL is not set\n");
    return 1;
  }
  double seconds = argc > 1 ? std::atof(argv[1]) : 2.0;
  int max_threads = argc > 2 ? std::atoi(argv[2]) : 8;
  server = kvstore::Url::parse(url);

  std::string body(1024 - 40, 'x');
  kvstore::Value value = {{"id", "https://example.com/notes/1"}, {"content", body}};
  const std::string json = value.dump();
  std::string sep = std::string(url).find('?') == std::string::npos ? "?" : "&";
  auto store = kvstore::open(std::string(url) + sep +
                             "prefix=bench&pool_size=" + std::to_string(std::max(8, max_threads)));
  std::vector<kvstore::KvKey> keys;
  std::vector<std::string> raw_keys;
  for (int i = 0; i < kKeys; ++i) {
    keys.push_back({"bench", std::to_string(i)});
    raw_keys.push_back("bench:raw:" + std::to_string(i));
    store->set_json(keys.back(), json);
  }
  std::vector<Context> contexts;
  for (int t = 0; t < max_threads; ++t) contexts.push_back(raw_connect());
  for (int i = 0; i < kKeys; ++i) {
    freeReplyObject(redisCommand(contexts[0].get(), "SET %b %b", raw_keys[i].data(),
                                 raw_keys[i].size(), json.data(), json.size()));
  }
  std::printf("value: %zu bytes of JSON, %d keys, %.1fs per case\n", json.size(), kKeys, seconds);
  std::printf("%-34s %8s %12s %8s %12s\n", "case", "threads", "ops/s", "vs raw", "client us/op");

  freeReplyObject(redisCommand(contexts[0].get(), "CONFIG RESETSTAT"));
  // Cases run interleaved, `rounds` times each, and report the median: on a
  // busy machine this keeps the raw and kvstore numbers comparable.
  const int rounds = argc > 3 ? std::atoi(argv[3]) : 5;
  for (int threads : {1, max_threads}) {
    struct Case {
      const char* name;
      std::function<void(int, long)> op;
      int base;  // index of the raw case it is compared with
      std::vector<double> results;
      std::vector<double> cpu;
    };
    std::vector<Case> cases;
    cases.push_back({"raw hiredis GET",
                     [&](int t, long n) {
                       const std::string& k = raw_keys[n % kKeys];
                       const char* args[] = {"GET", k.data()};
                       size_t lens[] = {3, k.size()};
                       freeReplyObject(redisCommandArgv(contexts[t].get(), 2, args, lens));
                     },
                     0,
                     {},
                     {}});
    cases.push_back({"kvstore get_json (zero-parse)",
                     [&](int, long n) {
                       if (!store->get_json(keys[n % kKeys])) std::abort();
                     },
                     0,
                     {},
                     {}});
    cases.push_back({"kvstore get (parsed Value)",
                     [&](int, long n) {
                       if (!store->get(keys[n % kKeys])) std::abort();
                     },
                     0,
                     {},
                     {}});
    cases.push_back({"raw hiredis SET",
                     [&](int t, long n) {
                       const std::string& k = raw_keys[n % kKeys];
                       const char* args[] = {"SET", k.data(), json.data()};
                       size_t lens[] = {3, k.size(), json.size()};
                       freeReplyObject(redisCommandArgv(contexts[t].get(), 3, args, lens));
                     },
                     3,
                     {},
                     {}});
    cases.push_back({"kvstore set_json (script+index)",
                     [&](int, long n) { store->set_json(keys[n % kKeys], json); },
                     3,
                     {},
                     {}});
    cases.push_back({"kvstore set (Value)",
                     [&](int, long n) { store->set(keys[n % kKeys], value); },
                     3,
                     {},
                     {}});
    for (int r = 0; r < rounds; ++r) {
      for (Case& c : cases) {
        Result result = run(threads, seconds, c.op);
        c.results.push_back(result.ops_per_second);
        c.cpu.push_back(result.client_cpu_us_per_op);
      }
    }
    auto median = [](std::vector<double> v) {
      std::sort(v.begin(), v.end());
      return v[v.size() / 2];
    };
    for (Case& c : cases) {
      double ops = median(c.results);
      std::printf("%-34s %8d %12.0f %8.2f %12.1f\n", c.name, threads, ops,
                  ops / median(cases[c.base].results), median(c.cpu));
    }
  }
  // Server-side cost per command (raw and kvstore calls together).
  auto* stats = static_cast<redisReply*>(redisCommand(contexts[0].get(), "INFO commandstats"));
  if (stats != nullptr && stats->type == REDIS_REPLY_STRING) {
    std::string text(stats->str, stats->len);
    for (const char* name : {"cmdstat_get:", "cmdstat_set:", "cmdstat_evalsha:"}) {
      std::size_t at = text.find(name);
      if (at != std::string::npos) {
        std::printf("server %s\n", text.substr(at, text.find('\r', at) - at).c_str());
      }
    }
  }
  freeReplyObject(stats);
  for (int i = 0; i < kKeys; ++i) {
    store->remove(keys[i]);
    freeReplyObject(
        redisCommand(contexts[0].get(), "DEL %b", raw_keys[i].data(), raw_keys[i].size()));
  }
  return 0;
}
