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
  int threads = 1;
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
  double kvstore_ops = 0, raw_ops = 0, ratio = 0;
  std::optional<double> target;  // 0.9 for get and set
};

struct Report {
  std::vector<Row> rows;
  std::vector<std::string> notes;    // unavailable drivers, skipped workloads, errors
  std::vector<std::string> machine;  // "key: value" lines
  std::vector<std::string> argv;
};

// Fills Row::ratio and returns every kvstore ÷ raw ratio.
std::vector<Ratio> compute_ratios(Report& report);

// "12.3k", "1.23M".
std::string human_rate(double per_second);
std::string format_us(double us);

// The rows of one workload as a table.
void print_workload_table(const std::vector<Row>& rows, const std::string& workload);
void print_ratio_table(const std::vector<Ratio>& ratios);

void write_json(const Report& report, const std::vector<Ratio>& ratios, const std::string& path);
void write_csv(const Report& report, const std::string& path);
// Writes <base>.dat and <base>.gp next to `svg_path` and runs gnuplot.
// Returns an empty string on success, else why the chart was skipped.
std::string write_chart(const Report& report, const std::string& svg_path);

// Machine description: nproc, CPU model, memory, kernel.
std::vector<std::string> describe_machine();

}  // namespace kvbench
