#include "report.h"

#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <tuple>

#include <nlohmann/json.hpp>

namespace kvbench {

namespace {

std::string fmt(const char* format, double value) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, value);
  return buf;
}

std::string pad(const std::string& s, std::size_t width, bool right = false) {
  // Pads by code points so "÷" and "µ" line up.
  std::size_t len = 0;
  for (unsigned char c : s) len += (c & 0xc0) != 0x80;
  if (len >= width) return s;
  std::string fill(width - len, ' ');
  return right ? fill + s : s + fill;
}

// Async rows are a series of their own, in the panel of their concurrency.
std::string series_name(const Row& r) {
  return r.target + " " + r.mode + (r.inflight > 0 ? " async" : "");
}

std::string op_label(const Row& r) {
  return r.workload + ":" + r.op + (r.phase.empty() ? "" : "(" + r.phase + ")");
}

}  // namespace

std::string human_rate(double v) {
  if (v >= 1e6) return fmt("%.2fM", v / 1e6);
  if (v >= 1e4) return fmt("%.1fk", v / 1e3);
  if (v >= 1e3) return fmt("%.2fk", v / 1e3);
  return fmt("%.1f", v);
}

std::string format_us(double us) {
  if (us >= 1e4) return fmt("%.0f", us);
  if (us >= 100) return fmt("%.0f", us);
  if (us >= 10) return fmt("%.1f", us);
  return fmt("%.2f", us);
}

std::string concurrency_label(const Row& row) {
  return row.inflight > 0 ? std::to_string(row.inflight) + " inflight"
                          : std::to_string(row.threads) + "t";
}

std::vector<Ratio> compute_ratios(Report& report) {
  std::vector<Ratio> out;
  for (Row& r : report.rows) {
    if (r.raw) continue;
    for (const Row& b : report.rows) {
      if (!b.raw || b.inflight != 0 || b.driver != r.driver || b.workload != r.workload ||
          b.phase != r.phase || b.mode != r.mode || b.threads != r.threads || b.op != r.op ||
          b.ops_per_s <= 0) {
        continue;
      }
      r.ratio = r.ops_per_s / b.ops_per_s;
      Ratio x{r.workload, r.phase,     r.driver,    r.mode,   r.op,        r.threads,
              r.inflight, r.ops_per_s, b.ops_per_s, *r.ratio, std::nullopt};
      // The 0.9 target is for the blocking calls; async rows have their own
      // criterion (compute_async_ratios).
      if ((r.op == "get" || r.op == "set") && r.inflight == 0) x.target = 0.9;
      out.push_back(x);
      break;
    }
  }
  return out;
}

std::vector<AsyncRatio> compute_async_ratios(const Report& report) {
  std::vector<AsyncRatio> out;
  for (const Row& a : report.rows) {
    if (a.inflight == 0) continue;
    for (const Row& s : report.rows) {
      if (s.inflight != 0 || s.target != a.target || s.workload != a.workload ||
          s.phase != a.phase || s.mode != a.mode || s.threads != a.inflight || s.op != a.op ||
          s.ops_per_s <= 0) {
        continue;
      }
      out.push_back({a.workload, a.phase, a.target, a.mode, a.op, a.inflight, a.ops_per_s,
                     s.ops_per_s, a.ops_per_s / s.ops_per_s, a.p50_us, s.p50_us});
      break;
    }
  }
  return out;
}

void print_async_ratio_table(const std::vector<AsyncRatio>& ratios) {
  if (ratios.empty()) return;
  std::printf("\nasync ÷ sync, same store (ops/s of \"N inflight\" ÷ \"Nt\"; criterion ≥ 0.90)\n");
  std::printf("%s %s %s %s %s %s %s %s %s %s\n", pad("target", 14).c_str(),
              pad("workload", 15).c_str(), pad("op", 16).c_str(), pad("mode", 4).c_str(),
              pad("N", 4, true).c_str(), pad("async", 9, true).c_str(),
              pad("sync", 9, true).c_str(), pad("ratio", 6, true).c_str(),
              pad("p50 async/sync µs", 19, true).c_str(), "");
  for (const AsyncRatio& x : ratios) {
    std::string op = x.op + (x.phase.empty() ? "" : " " + x.phase);
    std::printf("%s %s %s %s %s %s %s %s %s %s\n", pad(x.target, 14).c_str(),
                pad(x.workload, 15).c_str(), pad(op, 16).c_str(), pad(x.mode, 4).c_str(),
                pad(std::to_string(x.concurrency), 4, true).c_str(),
                pad(human_rate(x.async_ops), 9, true).c_str(),
                pad(human_rate(x.sync_ops), 9, true).c_str(),
                pad(fmt("%.2f", x.ratio), 6, true).c_str(),
                pad(format_us(x.async_p50_us) + " / " + format_us(x.sync_p50_us), 19, true).c_str(),
                x.ratio >= 0.9 ? "ok" : "BELOW 0.90");
  }
}

void print_workload_table(const std::vector<Row>& rows, const std::string& workload) {
  bool any_async = false;
  for (const Row& r : rows) any_async = any_async || (r.workload == workload && r.inflight > 0);
  std::printf("%s %s %s %s %s %s %s %s %s %s\n", pad("target", 14).c_str(), pad("mode", 4).c_str(),
              pad("conc", 11, true).c_str(), pad("op", 18).c_str(), pad("ops/s", 9, true).c_str(),
              pad("p50 µs", 8, true).c_str(), pad("p99 µs", 8, true).c_str(),
              pad("p99.9 µs", 9, true).c_str(), pad("÷ raw", 6, true).c_str(), "notes");
  for (const Row& r : rows) {
    if (r.workload != workload) continue;
    std::string op = r.op + (r.phase.empty() ? "" : " " + r.phase);
    std::string notes;
    if (r.op == "get" && r.count) notes = fmt("hit %.0f%%", 100.0 * r.hits / r.count);
    if (r.op == "cas" && r.count) notes = fmt("swapped %.0f%%", 100.0 * r.hits / r.count);
    if ((r.op == "list" || r.op == "list_keys") && r.count) {
      double per_entry = r.entries ? r.mean_us * 1000.0 * r.count / r.entries : 0;
      notes = fmt("%.0f entries/list, ", static_cast<double>(r.entries) / r.count) +
              fmt("%.0f ns/entry", per_entry);
    }
    if ((r.op == "get_many" || r.op == "set_many") && r.count) {
      const double keys_per_call = static_cast<double>(r.entries) / r.count;
      notes = fmt("%.0f keys/call, ", keys_per_call) + human_rate(r.ops_per_s * keys_per_call) +
              " keys/s";
      if (r.op == "get_many") notes += fmt(", hit %.0f%%", 100.0 * r.hits / r.entries);
    }
    if (r.errors) notes += (notes.empty() ? "" : ", ") + std::to_string(r.errors) + " errors";
    std::printf(
        "%s %s %s %s %s %s %s %s %s %s\n", pad(r.target, 14).c_str(), pad(r.mode, 4).c_str(),
        pad(concurrency_label(r), 11, true).c_str(), pad(op, 18).c_str(),
        pad(human_rate(r.ops_per_s), 9, true).c_str(), pad(format_us(r.p50_us), 8, true).c_str(),
        pad(format_us(r.p99_us), 8, true).c_str(), pad(format_us(r.p999_us), 9, true).c_str(),
        pad(r.ratio ? fmt("%.2f", *r.ratio) : "", 6, true).c_str(), notes.c_str());
  }
  if (any_async) {
    std::printf(
        "conc: Nt = N threads on the blocking calls; N inflight = the async mode, one issuing\n"
        "thread keeping N operations in flight through the callback API. The raw clients have\n"
        "no async mode: on inflight rows, ÷ raw is against the raw client's blocking figure\n"
        "at N threads.\n");
  }
  std::fflush(stdout);
}

void print_ratio_table(const std::vector<Ratio>& ratios) {
  if (ratios.empty()) {
    std::printf("\nNo kvstore ÷ raw ratios: no driver ran next to its raw baseline.\n");
    return;
  }
  std::printf(
      "\nkvstore ÷ raw client (ops/s; json: JSON API vs raw + nlohmann parse/dump, "
      "text: zero-parse vs raw bytes; target ≥ 0.90 for get/set)\n");
  std::printf("%s %s %s %s %s %s %s %s\n", pad("driver", 9).c_str(), pad("workload", 15).c_str(),
              pad("op", 16).c_str(), pad("mode", 4).c_str(), pad("conc", 11, true).c_str(),
              pad("kvstore", 9, true).c_str(), pad("raw", 9, true).c_str(),
              pad("ratio", 6, true).c_str());
  for (const Ratio& x : ratios) {
    std::string op = x.op + (x.phase.empty() ? "" : " " + x.phase);
    std::string mark = x.target ? (x.ratio >= *x.target ? "  ok" : "  BELOW TARGET") : "";
    std::printf("%s %s %s %s %s %s %s %s%s\n", pad(x.driver, 9).c_str(),
                pad(x.workload, 15).c_str(), pad(op, 16).c_str(), pad(x.mode, 4).c_str(),
                pad(x.inflight > 0 ? std::to_string(x.inflight) + " inflight"
                                   : std::to_string(x.threads) + "t",
                    11, true)
                    .c_str(),
                pad(human_rate(x.kvstore_ops), 9, true).c_str(),
                pad(human_rate(x.raw_ops), 9, true).c_str(),
                pad(fmt("%.2f", x.ratio), 6, true).c_str(), mark.c_str());
  }
  bool any_async =
      std::any_of(ratios.begin(), ratios.end(), [](const Ratio& x) { return x.inflight > 0; });
  if (any_async) {
    std::printf(
        "N inflight rows: kvstore's async mode ÷ the raw client's blocking figure at N threads\n"
        "(the raw clients have no async mode); the 0.90 target applies to the blocking calls.\n");
  }
}

void write_json(const Report& report, const std::vector<Ratio>& ratios, const std::string& path,
                const std::vector<AsyncRatio>& async_ratios) {
  nlohmann::ordered_json j;
  j["tool"] = "kvbench";
  {
    std::time_t now = std::time(nullptr);
    char date[32];
    std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
    j["date"] = date;
  }
  j["argv"] = report.argv;
  j["machine"] = report.machine;
  j["notes"] = report.notes;
  auto& rows = j["results"] = nlohmann::ordered_json::array();
  for (const Row& r : report.rows) {
    nlohmann::ordered_json o;
    o["workload"] = r.workload;
    o["phase"] = r.phase;
    o["target"] = r.target;
    o["driver"] = r.driver;
    o["raw"] = r.raw;
    o["where"] = r.where;
    o["mode"] = r.mode;
    o["threads"] = r.threads;
    o["inflight"] = r.inflight;
    o["concurrency"] = concurrency_label(r);
    o["op"] = r.op;
    o["count"] = r.count;
    o["seconds"] = r.seconds;
    o["ops_per_s"] = r.ops_per_s;
    o["p50_us"] = r.p50_us;
    o["p99_us"] = r.p99_us;
    o["p999_us"] = r.p999_us;
    o["mean_us"] = r.mean_us;
    o["hits"] = r.hits;
    o["entries"] = r.entries;
    o["errors"] = r.errors;
    if (!r.first_error.empty()) o["first_error"] = r.first_error;
    o["ratio_vs_raw"] = r.ratio ? nlohmann::ordered_json(*r.ratio) : nlohmann::ordered_json();
    rows.push_back(o);
  }
  auto& rs = j["ratios"] = nlohmann::ordered_json::array();
  for (const Ratio& x : ratios) {
    rs.push_back(
        {{"driver", x.driver},
         {"workload", x.workload},
         {"phase", x.phase},
         {"op", x.op},
         {"mode", x.mode},
         {"threads", x.threads},
         {"inflight", x.inflight},
         {"kvstore_ops_per_s", x.kvstore_ops},
         {"raw_ops_per_s", x.raw_ops},
         {"ratio", x.ratio},
         {"target", x.target ? nlohmann::ordered_json(*x.target) : nlohmann::ordered_json()}});
  }
  auto& as = j["async_vs_sync"] = nlohmann::ordered_json::array();
  for (const AsyncRatio& x : async_ratios) {
    as.push_back({{"target", x.target},
                  {"workload", x.workload},
                  {"phase", x.phase},
                  {"op", x.op},
                  {"mode", x.mode},
                  {"concurrency", x.concurrency},
                  {"async_ops_per_s", x.async_ops},
                  {"sync_ops_per_s", x.sync_ops},
                  {"ratio", x.ratio},
                  {"async_p50_us", x.async_p50_us},
                  {"sync_p50_us", x.sync_p50_us}});
  }
  std::ofstream out(path);
  if (!out) throw std::runtime_error("cannot write " + path);
  out << j.dump(2) << "\n";
}

void write_csv(const Report& report, const std::string& path) {
  std::ofstream out(path);
  if (!out) throw std::runtime_error("cannot write " + path);
  out << "workload,phase,target,driver,raw,mode,threads,op,count,seconds,ops_per_s,p50_us,"
         "p99_us,p999_us,mean_us,hits,entries,errors,ratio_vs_raw,inflight\n";
  for (const Row& r : report.rows) {
    out << r.workload << ',' << r.phase << ',' << r.target << ',' << r.driver << ','
        << (r.raw ? 1 : 0) << ',' << r.mode << ',' << r.threads << ',' << r.op << ',' << r.count
        << ',' << fmt("%.3f", r.seconds) << ',' << fmt("%.1f", r.ops_per_s) << ','
        << fmt("%.2f", r.p50_us) << ',' << fmt("%.2f", r.p99_us) << ',' << fmt("%.2f", r.p999_us)
        << ',' << fmt("%.2f", r.mean_us) << ',' << r.hits << ',' << r.entries << ',' << r.errors
        << ',' << (r.ratio ? fmt("%.3f", *r.ratio) : "") << ',' << r.inflight << '\n';
  }
}

std::string write_chart(const Report& report, const std::string& svg_path) {
  if (std::system("command -v gnuplot > /dev/null 2>&1") != 0) {
    return "gnuplot not found (apt-get install gnuplot-nox); chart skipped";
  }
  if (report.rows.empty()) return "no results; chart skipped";
  std::string base = svg_path;
  if (base.size() > 4 && base.substr(base.size() - 4) == ".svg") base.resize(base.size() - 4);
  std::string dat = base + ".dat", gp = base + ".gp";

  // Rows: workload:op; columns: series (target + mode); one block per thread count.
  std::vector<std::string> labels, series;
  std::set<int> thread_counts;  // the concurrency: async rows join the panel of N threads
  bool any_async = false;
  std::map<std::tuple<int, std::string, std::string>, double> value;
  // Series are ordered by driver, mode, then kvstore before its raw baseline,
  // so each kvstore bar stands next to the bar it is compared with.
  // Async series follow their store's blocking series.
  std::map<std::tuple<std::string, std::string, bool, std::string, bool>, std::string> ordered;
  for (const Row& r : report.rows) {
    std::string label = op_label(r), s = series_name(r);
    if (std::find(labels.begin(), labels.end(), label) == labels.end()) labels.push_back(label);
    ordered[{r.driver, r.mode, r.raw, r.target, r.inflight > 0}] = s;
    thread_counts.insert(r.threads);
    any_async = any_async || r.inflight > 0;
    value[{r.threads, label, s}] = r.ops_per_s;
  }
  // Colour by driver (dark: kvstore, light: raw baseline); json bars are
  // solid, text (zero-parse / raw bytes) bars are hatched; async bars are
  // lighter (a transparent fill) in their store's colour.
  static const std::map<std::string, std::pair<const char*, const char*>> kColours = {
      {"memory", {"#555555", "#bbbbbb"}}, {"sqlite", {"#1f5fa8", "#8fb8e6"}},
      {"redis", {"#b8322a", "#f0a09a"}},  {"postgres", {"#2a8a3e", "#9bd6a6"}},
      {"mysql", {"#d07a10", "#f5c98a"}},
  };
  std::vector<std::string> styles;
  for (const auto& [key, name] : ordered) {
    const auto& [driver, mode, raw, target, async] = key;
    auto it = kColours.find(driver);
    const char* colour = it == kColours.end() ? (raw ? "#d9b3ff" : "#7a3db8")
                                              : (raw ? it->second.second : it->second.first);
    series.push_back(name);
    std::string fill = mode == "text" ? "pattern " + std::string(async ? "4" : "5") +
                                            " border rgb '" + std::string(colour) + "'"
                                      : std::string(async ? "transparent solid 0.45 border -1"
                                                          : "solid 0.9 border -1");
    styles.push_back(std::string("lc rgb '") + colour + "' fs " + fill);
  }
  {
    std::ofstream out(dat);
    if (!out) return "cannot write " + dat;
    for (int t : thread_counts) {
      out << "# threads=" << t << "\n\"op\"";
      for (const auto& s : series) out << " \"" << s << "\"";
      out << "\n";
      for (const auto& l : labels) {
        out << '"' << l << '"';
        for (const auto& s : series) {
          auto it = value.find({t, l, s});
          out << ' ' << (it == value.end() ? std::string("NaN") : fmt("%.1f", it->second));
        }
        out << "\n";
      }
      out << "\n\n";
    }
  }
  {
    std::ofstream out(gp);
    if (!out) return "cannot write " + gp;
    int panels = static_cast<int>(thread_counts.size());
    int width = std::max(900, 60 + static_cast<int>(labels.size() * series.size()) * 9);
    out << "# kvbench chart: ops/s per workload operation, one panel per thread count.\n"
        << "# Render: gnuplot " << gp << "\n"
        << "set terminal svg size " << width << "," << 420 * panels
        << " dynamic font 'sans,10' background '#ffffff'\n"
        << "set output '" << svg_path << "'\n"
        << "set datafile missing 'NaN'\n"
        << "set style data histograms\nset style histogram clustered gap 1\n"
        << "set style fill solid 0.85 border -1\nset boxwidth 0.9\n"
        << "set logscale y\nset ylabel 'ops/s (log scale)'\nset grid ytics\n"
        << "set key outside right top vertical\n"
        << "set xtics rotate by -35 left noenhanced\nset key noenhanced\n"
        << "set multiplot layout " << panels << ",1\n";
    int block = 0;
    for (int t : thread_counts) {
      out << "set title 'kvbench: ops/s at " << t << " thread" << (t == 1 ? "" : "s")
          << (any_async ? " / " + std::to_string(t) + " in flight (async)" : "")
          << " (higher is better)'\n"
          << "plot ";
      for (std::size_t i = 0; i < series.size(); ++i) {
        out << (i ? ", \\\n     '' " : "'" + dat + "' ") << "index " << block << " using " << i + 2
            << (i ? "" : ":xtic(1)") << " title columnheader(" << i + 2 << ") " << styles[i];
      }
      out << "\n";
      ++block;
    }
    out << "unset multiplot\n";
  }
  std::string command = "gnuplot '" + gp + "' 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) return "cannot run gnuplot";
  std::string output;
  char buf[512];
  while (std::fgets(buf, sizeof buf, pipe)) output += buf;
  int status = pclose(pipe);
  if (status != 0) return "gnuplot failed: " + output;
  return "";
}

std::vector<std::string> describe_machine() {
  std::vector<std::string> out;
  out.push_back("cpus: " + std::to_string(std::thread::hardware_concurrency()));
  std::ifstream cpu("/proc/cpuinfo");
  for (std::string line; std::getline(cpu, line);) {
    if (line.rfind("model name", 0) == 0) {
      out.push_back("cpu: " + line.substr(line.find(':') + 2));
      break;
    }
  }
  std::ifstream mem("/proc/meminfo");
  for (std::string line; std::getline(mem, line);) {
    if (line.rfind("MemTotal:", 0) == 0) {
      std::istringstream in(line.substr(9));
      double kb = 0;
      in >> kb;
      out.push_back("memory: " + fmt("%.1f GiB", kb / 1024 / 1024));
      break;
    }
  }
  utsname u{};
  if (uname(&u) == 0) out.push_back(std::string("kernel: ") + u.sysname + " " + u.release);
  return out;
}

}  // namespace kvbench
