// The report: result rows, kvstore ÷ raw ratios, the stdout table, JSON, CSV
// and a gnuplot chart.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace kvbench {

struct Row {
  std::string workload, phase, target, driver, where, mode, op;
  bool raw = false;
  // The concurrency: threads in a thread mode; in an async mode (inflight >
  // 0) the operations in flight, with threads == inflight so that the row
  // pairs with the thread rows (and raw rows) of the same concurrency.
  int threads = 1;
  int inflight = 0;
  std::uint64_t count = 0;
  double seconds = 0;
  double ops_per_s = 0;
  double p50_us = 0, p99_us = 0, p999_us = 0, mean_us = 0;
  std::uint64_t hits = 0, entries = 0, errors = 0;
  std::string first_error;
  std::optional<double> ratio;  // kvstore ÷ matching raw baseline (ops/s)
};

struct Ratio {
  std::string workload, phase, driver, mode, op;
  int threads = 1;
  int inflight = 0;  // > 0: an async row against the raw client's sync figure at threads
  double kvstore_ops = 0, raw_ops = 0, ratio = 0;
  std::optional<double> target;  // 0.9 for get and set
};

struct Report {
  std::vector<Row> rows;
  std::vector<std::string> notes;    // unavailable drivers, skipped workloads, errors
  std::vector<std::string> machine;  // "key: value" lines
  std::vector<std::string> argv;
};

// "8t" for a thread mode, "8 inflight" for an async mode.
std::string concurrency_label(const Row& row);

// Fills Row::ratio and returns every kvstore ÷ raw ratio. An async row is
// compared with the raw row at threads == inflight (raw clients have no
// async mode).
std::vector<Ratio> compute_ratios(Report& report);

// The async mode against the blocking calls of the same store: each
// "N inflight" row ÷ the "Nt" row of the same target, workload, phase, mode
// and op (ops/s). The criterion: at least 0.90.
struct AsyncRatio {
  std::string workload, phase, target, mode, op;
  int concurrency = 1;
  double async_ops = 0, sync_ops = 0, ratio = 0;
  double async_p50_us = 0, sync_p50_us = 0;
};
std::vector<AsyncRatio> compute_async_ratios(const Report& report);
void print_async_ratio_table(const std::vector<AsyncRatio>& ratios);

// "12.3k", "1.23M".
std::string human_rate(double per_second);
std::string format_us(double us);

// The rows of one workload as a table.
void print_workload_table(const std::vector<Row>& rows, const std::string& workload);
void print_ratio_table(const std::vector<Ratio>& ratios);

void write_json(const Report& report, const std::vector<Ratio>& ratios, const std::string& path,
                const std::vector<AsyncRatio>& async_ratios = {});
void write_csv(const Report& report, const std::string& path);
// Writes <base>.dat and <base>.gp next to `svg_path` and runs gnuplot.
// Returns an empty string on success, else why the chart was skipped.
std::string write_chart(const Report& report, const std::string& svg_path);

// Machine description: nproc, CPU model, memory, kernel.
std::vector<std::string> describe_machine();

}  // namespace kvbench
