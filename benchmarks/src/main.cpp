// kvbench: measures kvstore drivers through kvstore::open(url) next to the raw
// client libraries doing the same operations. See docs/benchmarks.md.
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <random>

#include "backend.h"
#include "options.h"
#include "report.h"
#include "runner.h"
#include "workload.h"

namespace kvbench {
namespace {

struct Target {
  std::unique_ptr<Backend> backend;
};

std::string random_id() {
  std::random_device rd;
  char buf[16];
  std::snprintf(buf, sizeof buf, "%08x", rd());
  return buf;
}

Row make_row(const Workload& w, const std::string& phase, const Backend& b, Mode mode, int threads,
             int inflight, OpKind op, const RunResult& r) {
  const OpStats& s = r.ops[static_cast<std::size_t>(op)];
  Row row;
  row.workload = w.name();
  row.phase = phase;
  row.target = b.name();
  row.driver = b.driver();
  row.where = b.where();
  row.raw = b.raw();
  row.mode = to_string(mode);
  row.threads = threads;
  row.inflight = inflight;
  row.op = to_string(op);
  row.count = s.latency.count();
  row.seconds = r.seconds;
  row.ops_per_s = r.seconds > 0 ? static_cast<double>(row.count) / r.seconds : 0;
  row.p50_us = static_cast<double>(s.latency.percentile(0.50)) / 1000.0;
  row.p99_us = static_cast<double>(s.latency.percentile(0.99)) / 1000.0;
  row.p999_us = static_cast<double>(s.latency.percentile(0.999)) / 1000.0;
  row.mean_us = s.latency.mean() / 1000.0;
  row.hits = s.hits;
  row.entries = s.entries;
  row.errors = r.errors;
  row.first_error = r.first_error;
  return row;
}

void status(bool terminal, const std::string& text) {
  if (!terminal) return;
  std::fprintf(stderr, "\r\033[K%s", text.c_str());
  std::fflush(stderr);
}

int run(int argc, char** argv) {
  Options opt;
  std::vector<std::string> args(argv + 1, argv + argc);
  try {
    opt = parse_options(args);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "kvbench: %s\n", e.what());
    return 2;
  }
  if (opt.help) {
    std::fputs(usage().c_str(), stdout);
    return 0;
  }
  WorkloadParams params;
  params.keys = opt.keys;
  params.value_size = opt.value_size;
  params.list_entries = opt.list_entries;
  params.seed = opt.seed;
  if (opt.list_workloads) {
    for (const auto& name : workload_names()) {
      std::printf("%-15s %s\n", name.c_str(), make_workload(name, params)->description().c_str());
    }
    return 0;
  }
  std::vector<std::string> workloads = opt.workloads.empty() ? workload_names() : opt.workloads;
  for (const auto& name : workloads) {
    try {
      (void)make_workload(name, WorkloadParams{1, 16, 1, 0, 1, ""});
    } catch (const std::exception& e) {
      std::fprintf(stderr, "kvbench: %s (one of:", e.what());
      for (const auto& n : workload_names()) std::fprintf(stderr, " %s", n.c_str());
      std::fprintf(stderr, ")\n");
      return 2;
    }
  }

  // The embedded default: memory: and SQLite in a temp file deleted afterwards.
  std::filesystem::path temp_dir;
  std::vector<std::string> urls = opt.urls;
  if (urls.empty()) {
    char tmpl[] = "/tmp/kvbench-XXXXXX";
    if (!mkdtemp(tmpl)) {
      std::perror("kvbench: mkdtemp");
      return 1;
    }
    temp_dir = tmpl;
    urls = {"memory:", "sqlite:" + (temp_dir / "kvstore.db").string()};
    // kvstore has no bulk load: the embedded default keeps its preload (one set
    // per key) short so README command (1) stays within a few minutes.
    if (!opt.list_background_given && !opt.quick) opt.list_background = 200000;
  }
  struct TempDirGuard {
    std::filesystem::path dir;
    ~TempDirGuard() {
      std::error_code ec;
      if (!dir.empty()) std::filesystem::remove_all(dir, ec);
    }
  } guard{temp_dir};

  params.list_background = opt.list_background;
  Report report;
  report.argv = args;
  report.machine = describe_machine();

  // Targets: every URL through kvstore, then the raw baselines.
  std::vector<std::unique_ptr<Backend>> backends;
  for (const auto& url : urls) {
    try {
      backends.push_back(make_kvstore_backend(url));
      if (opt.observer) backends.push_back(make_kvstore_backend(url, /*observed=*/true));
    } catch (const kvstore::Error& e) {
      std::string where = url;
      try {
        where = kvstore::Url::parse(url).redacted();
      } catch (...) {
      }
      std::string note = (e.code() == kvstore::ErrorCode::unsupported ? "driver not available: "
                                                                      : "cannot open: ") +
                         where + ": " + e.what();
      std::printf("%s\n", note.c_str());
      report.notes.push_back(note);
    }
  }
  if (opt.raw != "none") {
    std::vector<std::string> wanted;
    if (opt.raw != "auto") {
      std::string list = opt.raw;
      for (std::size_t start = 0; start <= list.size();) {
        std::size_t comma = std::min(list.find(',', start), list.size());
        std::string name = list.substr(start, comma - start);
        if (name.rfind("raw-", 0) == 0) name = name.substr(4);
        if (!name.empty()) wanted.push_back(name);
        start = comma + 1;
      }
    }
    for (const auto& url : urls) {
      std::string driver;
      try {
        driver = driver_for_scheme(kvstore::Url::parse(url).scheme());
      } catch (...) {
        continue;
      }
      if (driver.empty() || driver == "memory") continue;
      if (!wanted.empty() && std::find(wanted.begin(), wanted.end(), driver) == wanted.end()) {
        continue;
      }
      std::string note;
      if (!raw_backend_built(driver)) {
        note = "raw-" + driver +
               " baseline not built (client library not found or "
               "KVSTORE_WITH_" +
               driver + "=OFF)";
      } else {
        try {
          backends.push_back(make_raw_backend(driver, url));
        } catch (const std::exception& e) {
          note = "raw-" + driver + " baseline unavailable: " + e.what();
        }
      }
      if (!note.empty()) {
        std::printf("%s\n", note.c_str());
        report.notes.push_back(note);
      }
    }
  }
  if (backends.empty()) {
    std::fprintf(stderr, "kvbench: nothing to measure\n");
    return 1;
  }

  bool terminal = opt.progress && stderr_is_terminal();
  std::string run_id = random_id();
  std::printf("kvbench: %zu target(s):", backends.size());
  for (const auto& b : backends) std::printf(" %s (%s)", b->name().c_str(), b->where().c_str());
  std::printf("\nthreads:");
  for (int t : opt.threads) std::printf(" %d", t);
  if (!opt.inflight.empty()) {
    std::printf("; inflight (async):");
    for (int n : opt.inflight) std::printf(" %d", n);
  }
  if (opt.ops) {
    std::printf("; %llu ops per run", static_cast<unsigned long long>(*opt.ops));
  } else {
    std::printf("; %.2gs per run", opt.duration_s);
  }
  std::printf("; %zu keys; %zu-byte values; seed %llu\n", opt.keys, opt.value_size,
              static_cast<unsigned long long>(opt.seed));

  std::map<std::string, bool> skipped_async_noted;
  auto started = std::chrono::steady_clock::now();
  for (const auto& name : workloads) {
    params.ns = "kvbench-" + run_id + "-" + name;
    std::unique_ptr<Workload> workload = make_workload(name, params);
    std::vector<Mode> modes = workload->default_modes();
    if (!opt.modes.empty()) {
      modes.clear();
      for (const auto& m : opt.modes) modes.push_back(m == "json" ? Mode::json : Mode::text);
    }
    std::printf("\n== %s: %s\n", name.c_str(), workload->description().c_str());
    std::fflush(stdout);
    for (auto& backend : backends) {
      bool supported = true;
      for (OpKind op : workload->ops()) supported = supported && backend->supports(op);
      if (!supported) {
        std::string note = name + " on " + backend->name() + ": n/a (no ordered prefix listing)";
        std::printf("%s\n", note.c_str());
        report.notes.push_back(note);
        continue;
      }
      if (name == "fedify" && !backend->supports(OpKind::list)) {
        std::string note = "fedify on " + backend->name() +
                           ": its 2-in-1000 list operations are skipped (no ordered listing)";
        std::printf("%s\n", note.c_str());
        report.notes.push_back(note);
      }
      const bool has_async = backend->async_session(Mode::json) != nullptr;
      if (!opt.inflight.empty() && !has_async && !skipped_async_noted[backend->name()]) {
        skipped_async_noted[backend->name()] = true;
        std::string note = backend->name() +
                           ": no async mode (a raw client library); inflight rows compare with "
                           "its blocking figure at threads = inflight";
        std::printf("%s\n", note.c_str());
        report.notes.push_back(note);
      }
      try {
        status(terminal, "resetting " + backend->name() + " ...");
        backend->reset();
        for (int phase = 0; phase < workload->phases(); ++phase) {
          status(terminal, "loading " + name + " data into " + backend->name() + " ...");
          BackendLoader loader(*backend, 2);
          workload->prepare(phase, loader);
          // The thread modes, then the async modes (--inflight) where the
          // backend has an async API.
          struct Concurrency {
            int threads, inflight;
          };
          std::vector<Concurrency> runs;
          for (int threads : opt.threads) runs.push_back({threads, 0});
          if (has_async) {
            for (int inflight : opt.inflight) runs.push_back({inflight, inflight});
          }
          for (Mode mode : modes) {
            for (const Concurrency& c : runs) {
              RunSettings s;
              s.threads = c.threads;
              s.inflight = c.inflight;
              s.ops = opt.ops;
              s.duration_s = opt.duration_s;
              s.seed = opt.seed;
              s.progress = terminal;
              std::string conc = c.inflight ? std::to_string(c.inflight) + " inflight"
                                            : std::to_string(c.threads) + "t";
              s.label = name + " " + backend->name() + " " + to_string(mode) + " " + conc + " " +
                        workload->phase_label(phase);
              RunResult r = run_workload(*workload, *backend, mode, s);
              for (OpKind op : kAllOps) {
                if (r.ops[static_cast<std::size_t>(op)].latency.count() == 0) continue;
                report.rows.push_back(make_row(*workload, workload->phase_label(phase), *backend,
                                               mode, c.threads, c.inflight, op, r));
              }
              if (r.errors) {
                std::string note = name + " on " + backend->name() + " (" + to_string(mode) + ", " +
                                   (c.inflight ? conc : std::to_string(c.threads) + " threads") +
                                   "): " + std::to_string(r.errors) +
                                   " errors, first: " + r.first_error;
                report.notes.push_back(note);
              }
            }
          }
        }
      } catch (const std::exception& e) {
        std::string note = name + " on " + backend->name() + " failed: " + e.what();
        status(terminal, "");
        std::printf("%s\n", note.c_str());
        report.notes.push_back(note);
      }
      status(terminal, "");
    }
    compute_ratios(report);
    print_workload_table(report.rows, name);
  }
  backends.clear();  // drops the raw tables and keys, deletes temp files

  std::vector<Ratio> ratios = compute_ratios(report);
  print_ratio_table(ratios);
  std::vector<AsyncRatio> async_ratios = compute_async_ratios(report);
  print_async_ratio_table(async_ratios);
  for (const auto& n : report.notes) {
    if (n.find("errors, first") != std::string::npos) std::printf("note: %s\n", n.c_str());
  }
  double total = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::printf("\nfinished in %.0f s\n", total);

  std::string json = opt.json_path, csv = opt.csv_path, chart = opt.chart_path;
  if (!opt.out_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(opt.out_dir, ec);
    if (json.empty()) json = opt.out_dir + "/results.json";
    if (csv.empty()) csv = opt.out_dir + "/results.csv";
    if (chart.empty()) chart = opt.out_dir + "/chart.svg";
  }
  int rc = 0;
  try {
    if (!json.empty()) {
      write_json(report, ratios, json, async_ratios);
      std::printf("results (JSON): %s\n", json.c_str());
    }
    if (!csv.empty()) {
      write_csv(report, csv);
      std::printf("results (CSV):  %s\n", csv.c_str());
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "kvbench: %s\n", e.what());
    rc = 1;
  }
  if (!chart.empty()) {
    std::string why = write_chart(report, chart);
    if (why.empty()) {
      std::printf("chart (SVG):    %s\n", chart.c_str());
    } else {
      std::printf("chart: %s\n", why.c_str());
    }
  }
  return rc;
}

}  // namespace
}  // namespace kvbench

int main(int argc, char** argv) {
  try {
    return kvbench::run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "kvbench: %s\n", e.what());
    return 1;
  }
}
