// Deterministic pieces of kvbench: the Zipf generator, histogram percentiles,
// option parsing, documents, and one tiny run against memory:.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <map>

#include "histogram.h"
#include "options.h"
#include "random.h"
#include "report.h"
#include "runner.h"
#include "workload.h"

using namespace kvbench;

TEST_CASE("Rng is deterministic per seed", "[bench]") {
  Rng a(7), b(7), c(8);
  for (int i = 0; i < 100; ++i) {
    std::uint64_t x = a.next();
    REQUIRE(x == b.next());
    (void)c;
  }
  REQUIRE(Rng(7).next() != Rng(8).next());
  Rng r(1);
  for (int i = 0; i < 1000; ++i) {
    double u = r.unit();
    REQUIRE(u >= 0.0);
    REQUIRE(u < 1.0);
    REQUIRE(r.below(10) < 10);
  }
}

TEST_CASE("Zipf ranks follow 1/(r+1)^theta", "[bench]") {
  Zipf zipf(1000, 0.99);
  Rng rng(42);
  std::map<std::uint64_t, int> counts;
  const int n = 200000;
  for (int i = 0; i < n; ++i) {
    std::uint64_t r = zipf.rank(rng);
    REQUIRE(r < 1000);
    ++counts[r];
  }
  // Ranks 0 and 1 are drawn exactly with their probability; the rest come
  // from Gray et al.'s continuous approximation, so only check the shape.
  for (std::uint64_t r : {0, 1}) {
    double expected = zipf.probability(r) * n;
    CHECK(std::abs(counts[r] - expected) < 0.05 * expected);
  }
  int top10 = 0, next10 = 0;
  for (std::uint64_t r = 0; r < 10; ++r) top10 += counts[r];
  for (std::uint64_t r = 10; r < 20; ++r) next10 += counts[r];
  CHECK(top10 > 3 * next10);
  CHECK(counts[0] > counts[1]);
  CHECK(counts[1] > counts[5]);
  double sum = 0;
  for (std::uint64_t r = 0; r < 1000; ++r) sum += zipf.probability(r);
  CHECK(sum == Approx(1.0).epsilon(1e-9));
}

TEST_CASE("Zipf is deterministic and scrambling stays in range", "[bench]") {
  Zipf zipf(10, 0.99);
  Rng a(3), b(3);
  for (int i = 0; i < 1000; ++i) {
    std::uint64_t x = zipf.scrambled(a);
    REQUIRE(x < 10);
    REQUIRE(x == zipf.scrambled(b));
  }
  Zipf one(1);
  Rng r(1);
  REQUIRE(one.rank(r) == 0);
  REQUIRE_THROWS(Zipf(0));
}

TEST_CASE("Histogram buckets cover values within 3%", "[bench]") {
  for (std::uint64_t v : {0ull, 1ull, 63ull, 64ull, 65ull, 127ull, 128ull, 1000ull, 123456ull,
                          987654321ull, 1ull << 39}) {
    int b = Histogram::bucket_of(v);
    REQUIRE(Histogram::bucket_low(b) <= v);
    REQUIRE(v <= Histogram::bucket_high(b));
    REQUIRE(Histogram::bucket_high(b) - Histogram::bucket_low(b) <= v / 32 + 1);
  }
  // Buckets are contiguous.
  for (int b = 0; b + 1 < Histogram::kBuckets - 1; ++b) {
    if (Histogram::bucket_low(b + 1) == 0) break;
    REQUIRE(Histogram::bucket_high(b) + 1 == Histogram::bucket_low(b + 1));
  }
}

TEST_CASE("Histogram percentiles", "[bench]") {
  Histogram h;
  REQUIRE(h.percentile(0.5) == 0);
  for (std::uint64_t v = 1; v <= 1000; ++v) h.record(v * 1000);  // 1..1000 µs
  REQUIRE(h.count() == 1000);
  REQUIRE(h.min() == 1000);
  REQUIRE(h.max() == 1000000);
  CHECK(h.mean() == Approx(500500.0));
  CHECK(std::abs(static_cast<double>(h.percentile(0.5)) - 500000) < 0.02 * 500000);
  CHECK(std::abs(static_cast<double>(h.percentile(0.99)) - 990000) < 0.02 * 990000);
  CHECK(std::abs(static_cast<double>(h.percentile(0.999)) - 999000) < 0.02 * 999000);
  CHECK(h.percentile(1.0) <= h.max());
  CHECK(h.percentile(0.0) >= h.min());

  Histogram a, b;
  for (int i = 0; i < 990; ++i) a.record(100);
  for (int i = 0; i < 10; ++i) b.record(1000000);
  a.merge(b);
  REQUIRE(a.count() == 1000);
  CHECK(a.percentile(0.5) == 100);
  CHECK(a.percentile(0.99) == 100);
  CHECK(std::abs(static_cast<double>(a.percentile(0.999)) - 1e6) < 0.02 * 1e6);
}

TEST_CASE("Option parsing", "[bench]") {
  Options d = parse_options({});
  CHECK(d.urls.empty());
  CHECK(d.threads == std::vector<int>{1, 8});
  CHECK(d.value_size == 1024);
  CHECK(!d.ops);

  Options o = parse_options({"--url",      "memory:",       "--url=sqlite:x.db",
                             "--workload", "fill,read-hit", "--threads",
                             "1,2,4",      "--ops",         "10k",
                             "--keys",     "500",           "--value-size",
                             "2048",       "--seed",        "9",
                             "--json",     "a.json",        "--modes",
                             "json,text",  "--raw",         "none"});
  CHECK(o.urls == std::vector<std::string>{"memory:", "sqlite:x.db"});
  CHECK(o.workloads == std::vector<std::string>{"fill", "read-hit"});
  CHECK(o.threads == std::vector<int>{1, 2, 4});
  CHECK(o.ops == 10000u);
  CHECK(o.keys == 500);
  CHECK(o.value_size == 2048);
  CHECK(o.seed == 9);
  CHECK(o.json_path == "a.json");
  CHECK(o.raw == "none");

  CHECK(parse_options({"--duration", "250ms"}).duration_s == Approx(0.25));
  CHECK(parse_options({"--duration", "2"}).duration_s == Approx(2.0));
  Options q = parse_options({"--quick"});
  CHECK(q.duration_s < 1.0);
  CHECK(q.list_background < 1000000);
  CHECK(parse_options({"--quick", "--threads", "3"}).threads == std::vector<int>{3});

  CHECK_THROWS(parse_options({"--bogus"}));
  CHECK_THROWS(parse_options({"--threads"}));
  CHECK_THROWS(parse_options({"--threads", "0"}));
  CHECK_THROWS(parse_options({"--ops", "x"}));
  CHECK_THROWS(parse_options({"--duration", "5h"}));
  CHECK_THROWS(parse_options({"--modes", "binary"}));
}

TEST_CASE("The option --inflight takes a list of in-flight counts and is off by default",
          "[bench]") {
  CHECK(parse_options({}).inflight.empty());
  CHECK(parse_options({"--quick"}).inflight.empty());
  Options o = parse_options({"--inflight", "1,8,64", "--threads", "1,8"});
  CHECK(o.inflight == std::vector<int>{1, 8, 64});
  CHECK(o.threads == std::vector<int>{1, 8});
  CHECK(parse_options({"--inflight=2"}).inflight == std::vector<int>{2});
  CHECK(parse_options({"--inflight", "1k"}).inflight == std::vector<int>{1000});
  CHECK_THROWS(parse_options({"--inflight"}));
  CHECK_THROWS(parse_options({"--inflight", "0"}));
  CHECK_THROWS(parse_options({"--inflight", "2000"}));
  CHECK_THROWS(parse_options({"--inflight", "x"}));
  CHECK_THROWS(parse_options({"--inflight", ","}));
}

TEST_CASE("Documents have about the requested size", "[bench]") {
  for (std::size_t size : {512, 1024, 4096, 65536}) {
    Value doc = make_document("https://example.com/users/a", size, 1);
    std::size_t got = doc.dump().size();
    CHECK(got <= size);
    CHECK(got + 8 >= size);
    CHECK(doc == make_document("https://example.com/users/a", size, 1));
  }
}

namespace {
// A bulk workload's calls each carry 100 keys, all present in bulk-get.
void check_bulk_stats(const std::string& name, const RunResult& r) {
  if (name != "bulk-get" && name != "bulk-set") return;
  const OpStats& bulk =
      r.ops[static_cast<int>(name == "bulk-get" ? OpKind::get_many : OpKind::set_many)];
  CHECK(bulk.latency.count() > 0);
  CHECK(bulk.entries == 100 * bulk.latency.count());
  if (name == "bulk-get") CHECK(bulk.hits == bulk.entries);
}
}  // namespace

TEST_CASE("Every workload runs a few operations on memory:", "[bench]") {
  WorkloadParams p;
  p.keys = 100;
  p.value_size = 256;
  p.list_entries = 50;
  p.list_background = 200;
  auto backend = make_kvstore_backend("memory:");
  for (const auto& name : workload_names()) {
    p.ns = "test-" + name;
    auto w = make_workload(name, p);
    BackendLoader loader(*backend, 2);
    for (int phase = 0; phase < w->phases(); ++phase) {
      w->prepare(phase, loader);
      for (Mode mode : {Mode::json, Mode::text}) {
        RunSettings s;
        s.threads = 2;
        s.ops = 400;
        RunResult r = run_workload(*w, *backend, mode, s);
        INFO(name << " " << r.first_error);
        CHECK(r.errors == 0);
        std::uint64_t total = 0;
        for (const auto& op : r.ops) total += op.latency.count();
        CHECK(total >= 400);
        check_bulk_stats(name, r);
      }
    }
  }
}

namespace {

std::uint64_t total_ops(const RunResult& r) {
  std::uint64_t total = 0;
  for (const auto& op : r.ops) total += op.latency.count();
  return total;
}

// A temp directory removed at the end of the test.
struct TempDir {
  std::filesystem::path path;
  TempDir() {
    char tmpl[] = "/tmp/kvbench-test-XXXXXX";
    REQUIRE(mkdtemp(tmpl) != nullptr);
    path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

// Workloads in both modes through the async API: each slot of the run
// completes its share of --ops with no error.
void run_workloads_async(const std::string& url, int inflight,
                         const std::vector<std::string>& workloads) {
  WorkloadParams p;
  p.keys = 100;
  p.value_size = 256;
  p.list_entries = 50;
  p.list_background = 200;
  auto backend = make_kvstore_backend(url);
  for (const auto& name : workloads) {
    p.ns = "async-" + name;
    auto w = make_workload(name, p);
    BackendLoader loader(*backend, 2);
    for (int phase = 0; phase < w->phases(); ++phase) {
      w->prepare(phase, loader);
      for (Mode mode : {Mode::json, Mode::text}) {
        RunSettings s;
        s.inflight = inflight;
        s.ops = 240;
        RunResult r = run_workload(*w, *backend, mode, s);
        INFO(url << " " << name << " " << to_string(mode) << " " << r.first_error);
        CHECK(r.errors == 0);
        CHECK(r.seconds > 0);
        // One step is one operation, except that a failed cas-contention
        // cas is followed by a get.
        CHECK(total_ops(r) >= 240);
        if (name == "read-hit") {
          CHECK(r.ops[static_cast<int>(OpKind::get)].hits == 240);
        }
        if (name == "read-miss") CHECK(r.ops[static_cast<int>(OpKind::get)].hits == 0);
        if (name == "list-prefix" || name == "list-keys") {
          const OpKind op = name == "list-keys" ? OpKind::list_keys : OpKind::list;
          const OpStats& list = r.ops[static_cast<int>(op)];
          CHECK(list.latency.count() == 240);
          CHECK(list.entries == 240 * p.list_entries);
        }
        check_bulk_stats(name, r);
      }
    }
  }
}

}  // namespace

TEST_CASE("The async mode runs every workload on memory:", "[bench]") {
  run_workloads_async("memory:", 4, workload_names());
}

TEST_CASE("The async mode runs the point workloads on sqlite:", "[bench]") {
  // The point workloads only: under ASan a SQLite run of all of them takes
  // minutes; cas-contention has its own test below.
  TempDir dir;
  run_workloads_async("sqlite:" + (dir.path / "async.db").string(), 8,
                      {"read-hit", "read-miss", "overwrite", "zero-parse", "fill"});
}

TEST_CASE("An async run keeps its operations in flight and times them", "[bench]") {
  TempDir dir;
  for (const std::string& url :
       {std::string("memory:"), "sqlite:" + (dir.path / "t.db").string()}) {
    WorkloadParams p;
    p.keys = 50;
    p.value_size = 128;
    p.ns = "timed";
    auto backend = make_kvstore_backend(url);
    for (const std::string name : {"read-hit", "overwrite", "zero-parse"}) {
      auto w = make_workload(name, p);
      BackendLoader loader(*backend, 1);
      w->prepare(0, loader);
      RunSettings s;
      s.inflight = 8;
      s.duration_s = 0.05;  // by time, as kvbench runs by default
      RunResult r = run_workload(*w, *backend, Mode::text, s);
      INFO(url << " " << name << " " << r.first_error);
      CHECK(r.errors == 0);
      CHECK(r.seconds >= 0.05);
      CHECK(total_ops(r) > 0);
      for (const OpStats& op : r.ops) {
        if (op.latency.count() == 0) continue;
        CHECK(op.latency.min() > 0);
        CHECK(op.latency.percentile(0.5) <= op.latency.percentile(0.99));
      }
    }
  }
}

TEST_CASE("Async cas-contention swaps exactly as often as the counters grew", "[bench]") {
  // The slots race on 4 hot counters: every swap the run reports must be
  // one increment in the store, or the async cas lost or doubled a write.
  TempDir dir;
  for (const std::string& url :
       {std::string("memory:"), "sqlite:" + (dir.path / "c.db").string()}) {
    WorkloadParams p;
    p.ns = "cas";
    auto backend = make_kvstore_backend(url);
    auto w = make_workload("cas-contention", p);
    BackendLoader loader(*backend, 1);
    w->prepare(0, loader);
    RunSettings s;
    s.inflight = 8;
    s.ops = 400;
    RunResult r = run_workload(*w, *backend, Mode::json, s);
    INFO(url << " " << r.first_error);
    REQUIRE(r.errors == 0);
    std::uint64_t swapped = r.ops[static_cast<int>(OpKind::cas)].hits;
    CHECK(swapped > 0);
    auto session = backend->session(Mode::json);
    std::int64_t sum = 0;
    for (int i = 0; i < 4; ++i) {
      std::optional<Value> v = session->get_value({"cas", "counter", std::to_string(i)});
      REQUIRE(v);
      sum += v->get<std::int64_t>();
    }
    CHECK(static_cast<std::uint64_t>(sum) == swapped);
  }
}

TEST_CASE("run_workload_async refuses a backend without an async API", "[bench]") {
  struct SyncOnly final : Backend {
    std::string name() const override { return "sync-only"; }
    std::string driver() const override { return "memory"; }
    bool raw() const override { return true; }
    std::string where() const override { return ""; }
    std::unique_ptr<Session> session(Mode) override { return nullptr; }
  } backend;
  auto w = make_workload("read-hit", WorkloadParams{});
  RunSettings s;
  s.inflight = 2;
  s.ops = 10;
  CHECK_THROWS_AS(run_workload(*w, backend, Mode::json, s), std::runtime_error);
}

TEST_CASE("Inflight rows pair with raw and sync rows of the same concurrency", "[bench]") {
  Report report;
  Row sync;
  sync.workload = "read-hit";
  sync.target = "sqlite";
  sync.driver = "sqlite";
  sync.mode = "json";
  sync.op = "get";
  sync.threads = 8;
  sync.ops_per_s = 100;
  sync.p50_us = 10;
  Row async = sync;
  async.inflight = 8;
  async.ops_per_s = 95;
  async.p50_us = 12;
  Row async1 = async;  // no sync or raw row at 1: no ratio
  async1.threads = async1.inflight = 1;
  Row raw = sync;
  raw.target = "raw-sqlite";
  raw.raw = true;
  raw.ops_per_s = 200;
  report.rows = {sync, async, async1, raw};

  CHECK(concurrency_label(sync) == "8t");
  CHECK(concurrency_label(async) == "8 inflight");

  auto ratios = compute_ratios(report);
  REQUIRE(ratios.size() == 2);
  CHECK(ratios[0].inflight == 0);
  CHECK(ratios[0].ratio == Approx(0.5));
  CHECK(ratios[0].target == 0.9);
  CHECK(ratios[1].inflight == 8);
  CHECK(ratios[1].ratio == Approx(0.475));
  CHECK(!ratios[1].target);
  CHECK(report.rows[1].ratio == Approx(0.475));
  CHECK(!report.rows[2].ratio);

  auto async_ratios = compute_async_ratios(report);
  REQUIRE(async_ratios.size() == 1);
  CHECK(async_ratios[0].concurrency == 8);
  CHECK(async_ratios[0].ratio == Approx(0.95));
  CHECK(async_ratios[0].async_p50_us == Approx(12));
  CHECK(async_ratios[0].sync_p50_us == Approx(10));
}

TEST_CASE("Ratios pair kvstore rows with the raw baseline of the same driver", "[bench]") {
  Report report;
  Row kv;
  kv.workload = "read-hit";
  kv.target = "sqlite";
  kv.driver = "sqlite";
  kv.mode = "json";
  kv.op = "get";
  kv.threads = 1;
  kv.ops_per_s = 90;
  Row raw = kv;
  raw.target = "raw-sqlite";
  raw.raw = true;
  raw.ops_per_s = 100;
  Row other = raw;
  other.threads = 8;
  other.ops_per_s = 1;
  report.rows = {kv, raw, other};
  auto ratios = compute_ratios(report);
  REQUIRE(ratios.size() == 1);
  CHECK(ratios[0].ratio == Approx(0.9));
  CHECK(ratios[0].target == 0.9);
  CHECK(report.rows[0].ratio == Approx(0.9));
  CHECK(!report.rows[1].ratio);
}
