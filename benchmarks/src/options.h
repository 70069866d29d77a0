// kvbench command-line options.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace kvbench {

struct Options {
  std::vector<std::string> urls;          // --url, repeatable; empty: the embedded default
  std::vector<std::string> workloads;     // --workload a,b; empty: all
  std::vector<int> threads = {1, 8};      // --threads 1,8
  std::vector<int> inflight;              // --inflight 1,8,64: async modes; empty: none
  std::optional<std::uint64_t> ops;       // --ops N: operations per run (all threads together)
  double duration_s = 1.0;                // --duration 1s: length of each run (when no --ops)
  std::size_t keys = 10000;               // --keys: preloaded keys for point workloads
  std::size_t value_size = 1024;          // --value-size: bytes of JSON text per document
  std::uint64_t seed = 42;                // --seed
  std::size_t list_entries = 10000;       // --list-entries: entries under the listed prefix
  std::size_t list_background = 1000000;  // --list-background: other keys in the store
  bool list_background_given = false;
  std::string raw = "auto";        // --raw auto|none|sqlite,redis,...
  std::vector<std::string> modes;  // --modes json,text; empty: each workload's default
  std::string out_dir;             // --out DIR: results.json, results.csv, chart.svg
  std::string json_path, csv_path, chart_path;
  bool observer = false;  // --observer: also measure each URL with a counting observer
  bool quick = false;     // --quick: a smoke run
  bool progress = true;   // --no-progress disables the bar even on a terminal
  bool help = false;
  bool list_workloads = false;  // --list-workloads
};

// Parses argv. Throws std::invalid_argument with a message for bad options.
Options parse_options(const std::vector<std::string>& args);

// "1.5s", "250ms", "2m", or a plain number of seconds.
double parse_duration_seconds(const std::string& text);

std::string usage();

}  // namespace kvbench
