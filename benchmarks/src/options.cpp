#include "options.h"

#include <charconv>
#include <stdexcept>

namespace kvbench {

namespace {

std::vector<std::string> split_commas(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    if (comma > start) out.push_back(text.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

std::uint64_t parse_count(const std::string& option, const std::string& text) {
  // Accepts 10000, 10k, 1M.
  std::uint64_t multiplier = 1;
  std::string digits = text;
  if (!digits.empty()) {
    char last = digits.back();
    if (last == 'k' || last == 'K') multiplier = 1000;
    if (last == 'm' || last == 'M') multiplier = 1000000;
    if (multiplier != 1) digits.pop_back();
  }
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size()) {
    throw std::invalid_argument(option + " needs a non-negative integer, got '" + text + "'");
  }
  return value * multiplier;
}

}  // namespace

double parse_duration_seconds(const std::string& text) {
  std::size_t used = 0;
  double number = 0;
  try {
    number = std::stod(text, &used);
  } catch (const std::exception&) {
    throw std::invalid_argument("bad duration '" + text + "' (e.g. 2s, 500ms)");
  }
  std::string unit = text.substr(used);
  double scale = 0;
  if (unit.empty() || unit == "s")
    scale = 1;
  else if (unit == "ms")
    scale = 1e-3;
  else if (unit == "m" || unit == "min")
    scale = 60;
  if (scale == 0 || !(number > 0)) {
    throw std::invalid_argument("bad duration '" + text + "' (e.g. 2s, 500ms)");
  }
  return number * scale;
}

Options parse_options(const std::vector<std::string>& args) {
  Options o;
  bool threads_given = false, duration_given = false, keys_given = false, background_given = false,
       entries_given = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string arg = args[i];
    std::string value;
    bool has_inline = false;
    if (arg.rfind("--", 0) == 0) {
      if (std::size_t eq = arg.find('='); eq != std::string::npos) {
        value = arg.substr(eq + 1);
        arg = arg.substr(0, eq);
        has_inline = true;
      }
    }
    auto need = [&]() -> std::string {
      if (has_inline) return value;
      if (i + 1 >= args.size()) throw std::invalid_argument(arg + " needs a value");
      return args[++i];
    };
    if (arg == "--url") {
      o.urls.push_back(need());
    } else if (arg == "--workload" || arg == "-w") {
      for (auto& w : split_commas(need())) o.workloads.push_back(w);
    } else if (arg == "--threads" || arg == "-t") {
      o.threads.clear();
      for (auto& t : split_commas(need())) {
        std::uint64_t n = parse_count("--threads", t);
        if (n < 1 || n > 1024) throw std::invalid_argument("--threads must be 1..1024");
        o.threads.push_back(static_cast<int>(n));
      }
      if (o.threads.empty()) throw std::invalid_argument("--threads needs a value");
      threads_given = true;
    } else if (arg == "--inflight") {
      o.inflight.clear();
      for (auto& t : split_commas(need())) {
        std::uint64_t n = parse_count("--inflight", t);
        if (n < 1 || n > 1024) throw std::invalid_argument("--inflight must be 1..1024");
        o.inflight.push_back(static_cast<int>(n));
      }
      if (o.inflight.empty()) throw std::invalid_argument("--inflight needs a value");
    } else if (arg == "--ops") {
      o.ops = parse_count("--ops", need());
      if (*o.ops == 0) throw std::invalid_argument("--ops must be positive");
    } else if (arg == "--duration" || arg == "-d") {
      o.duration_s = parse_duration_seconds(need());
      duration_given = true;
    } else if (arg == "--keys") {
      o.keys = parse_count("--keys", need());
      if (o.keys == 0) throw std::invalid_argument("--keys must be positive");
      keys_given = true;
    } else if (arg == "--value-size") {
      o.value_size = parse_count("--value-size", need());
      if (o.value_size < 16 || o.value_size > 16 * 1024 * 1024) {
        throw std::invalid_argument("--value-size must be 16..16M");
      }
    } else if (arg == "--seed") {
      o.seed = parse_count("--seed", need());
    } else if (arg == "--list-entries") {
      o.list_entries = parse_count("--list-entries", need());
      if (o.list_entries == 0) throw std::invalid_argument("--list-entries must be positive");
      entries_given = true;
    } else if (arg == "--list-background") {
      o.list_background = parse_count("--list-background", need());
      background_given = true;
      o.list_background_given = true;
    } else if (arg == "--raw") {
      o.raw = need();
    } else if (arg == "--modes") {
      o.modes = split_commas(need());
      for (auto& m : o.modes) {
        if (m != "json" && m != "text") throw std::invalid_argument("--modes takes json,text");
      }
    } else if (arg == "--out") {
      o.out_dir = need();
    } else if (arg == "--json") {
      o.json_path = need();
    } else if (arg == "--csv") {
      o.csv_path = need();
    } else if (arg == "--chart") {
      o.chart_path = need();
    } else if (arg == "--quick") {
      o.quick = true;
    } else if (arg == "--observer") {
      o.observer = true;
    } else if (arg == "--no-progress") {
      o.progress = false;
    } else if (arg == "--list-workloads") {
      o.list_workloads = true;
    } else if (arg == "--help" || arg == "-h") {
      o.help = true;
    } else {
      throw std::invalid_argument("unknown option '" + args[i] + "' (see --help)");
    }
  }
  if (o.quick) {
    // A smoke run: every code path, small sizes, short runs.
    if (!duration_given) o.duration_s = 0.2;
    if (!keys_given) o.keys = 1000;
    if (!entries_given) o.list_entries = 1000;
    if (!background_given) o.list_background = 10000;
    if (!threads_given) o.threads = {1, 2};
  }
  return o;
}

std::string usage() {
  return R"(kvbench - benchmark kvstore drivers against the raw client libraries

Usage: kvbench [options]

Stores
  --url URL            a kvstore URL to measure (repeatable). Default: memory: and
                       sqlite:<temp file> (deleted afterwards).
  --raw auto|none|L    raw-client baselines: auto (one per sqlite/redis/postgres/mysql
                       URL, same server), none, or a list like sqlite,redis.
Workloads
  --workload W[,W]     fedify, fill, read-hit, read-miss, overwrite, cas-contention,
                       list-prefix, zero-parse, bulk-get, bulk-set, list-keys (default: all).
                       --list-workloads describes them.
  --modes json,text    json: kvstore JSON API vs raw + nlohmann parse/dump; text:
                       kvstore zero-parse calls vs raw bytes (default: per workload)
  --threads 1,8        thread counts to run each workload at (default 1,8)
  --inflight 1,8,64    also run each workload in the async mode: one issuing thread keeps
                       N operations in flight through kvstore's callback API (rows
                       "N inflight"; default: none; raw baselines have no async mode)
  --ops N | --duration D   operations or time per run (default --duration 1s)
  --keys N             preloaded keys of the point workloads (default 10000)
  --value-size N       bytes of JSON text per document (default 1024)
  --list-entries N     entries under the listed prefix (default 10000)
  --list-background N  other keys in the store for list-prefix (default 1000000;
                       200000 in the embedded default run without --url)
  --seed N             random seed (default 42)
  --observer           also run each kvstore URL with a counting observer installed
                       ("<driver>+observer"), to measure the hook's cost
  --quick              smoke run: 0.2s runs, 1000 keys, threads 1,2, small list store
Output
  --out DIR            write DIR/results.json, results.csv and chart.svg
  --json F, --csv F, --chart F.svg   individual output files
  --no-progress        no progress bar (it is only drawn on a terminal anyway)
)";
}

}  // namespace kvbench
