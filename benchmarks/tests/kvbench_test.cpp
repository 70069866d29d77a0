// Deterministic pieces of kvbench: the Zipf generator, histogram percentiles,
// option parsing, documents, and one tiny run against memory:.
#include <catch2/catch.hpp>

#include <cmath>
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

TEST_CASE("Documents have about the requested size", "[bench]") {
  for (std::size_t size : {512, 1024, 4096, 65536}) {
    Value doc = make_document("https://example.com/users/a", size, 1);
    std::size_t got = doc.dump().size();
    CHECK(got <= size);
    CHECK(got + 8 >= size);
    CHECK(doc == make_document("https://example.com/users/a", size, 1));
  }
}

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
      }
    }
  }
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
