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
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

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
    freeReplyObject(redisCommand(c.get(), "AUTH %s %s", server.user().c_str(),
                                 server.password()->c_str()));
  }
  return c;
}

// ops/s of `op(thread, i)` run by `threads` threads for `seconds`.
double run(int threads, double seconds, const std::function<void(int, long)>& op) {
  std::atomic<bool> stop{false};
  std::atomic<long> total{0};
  std::vector<std::thread> pool;
  auto start = std::chrono::steady_clock::now();
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
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return static_cast<double>(total) / elapsed;
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
  auto store = kvstore::open(std::string(url) + sep + "prefix=bench&pool_size=" +
                             std::to_string(std::max(8, max_threads)));
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
  std::printf("%-34s %8s %12s %8s\n", "case", "threads", "ops/s", "vs raw");

  // Cases run interleaved, `rounds` times each, and report the median: on a
  // busy machine this keeps the raw and kvstore numbers comparable.
  const int rounds = argc > 3 ? std::atoi(argv[3]) : 5;
  for (int threads : {1, max_threads}) {
    struct Case {
      const char* name;
      std::function<void(int, long)> op;
      int base;  // index of the raw case it is compared with
      std::vector<double> results;
    };
    std::vector<Case> cases;
    cases.push_back({"raw hiredis GET", [&](int t, long n) {
                       const std::string& k = raw_keys[n % kKeys];
                       const char* args[] = {"GET", k.data()};
                       size_t lens[] = {3, k.size()};
                       freeReplyObject(redisCommandArgv(contexts[t].get(), 2, args, lens));
                     }, 0, {}});
    cases.push_back({"kvstore get_json (zero-parse)", [&](int, long n) {
                       if (!store->get_json(keys[n % kKeys])) std::abort();
                     }, 0, {}});
    cases.push_back({"kvstore get (parsed Value)", [&](int, long n) {
                       if (!store->get(keys[n % kKeys])) std::abort();
                     }, 0, {}});
    cases.push_back({"raw hiredis SET", [&](int t, long n) {
                       const std::string& k = raw_keys[n % kKeys];
                       const char* args[] = {"SET", k.data(), json.data()};
                       size_t lens[] = {3, k.size(), json.size()};
                       freeReplyObject(redisCommandArgv(contexts[t].get(), 3, args, lens));
                     }, 3, {}});
    cases.push_back({"kvstore set_json (script+index)", [&](int, long n) {
                       store->set_json(keys[n % kKeys], json);
                     }, 3, {}});
    cases.push_back({"kvstore set (Value)", [&](int, long n) {
                       store->set(keys[n % kKeys], value);
                     }, 3, {}});
    for (int r = 0; r < rounds; ++r) {
      for (Case& c : cases) c.results.push_back(run(threads, seconds, c.op));
    }
    auto median = [](std::vector<double> v) {
      std::sort(v.begin(), v.end());
      return v[v.size() / 2];
    };
    for (Case& c : cases) {
      double ops = median(c.results);
      std::printf("%-34s %8d %12.0f %8.2f\n", c.name, threads, ops,
                  ops / median(cases[c.base].results));
    }
  }
  for (int i = 0; i < kKeys; ++i) {
    store->remove(keys[i]);
    freeReplyObject(redisCommand(contexts[0].get(), "DEL %b", raw_keys[i].data(),
                                 raw_keys[i].size()));
  }
  return 0;
}
