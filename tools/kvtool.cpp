// kvtool — inspect, export, import and migrate any kvstore from the shell.
// docs/kvtool.md is the manual; tools/kvtool.1 the man page (kept in step by
// tests/tools/kvtool_test.sh).
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <kvstore/kvstore.h>
#include <CLI/CLI.hpp>

#include "jsonl.h"

namespace {

using kvtool::Clock;

// Exit codes (docs/kvtool.md, kvtool --help).
enum Exit : int {
  kOk = 0,
  kStoreError = 1,   // kvstore reported an error (unavailable, invalid_argument, ...)
  kUsage = 2,        // bad command line
  kNegative = 3,     // a well-formed "no": get found nothing, cas did not swap
  kBadInput = 4,     // an import line is not an entry in the JSON Lines format
  kUnsupported = 5,  // the library cannot do this yet (purge-expired)
  kInterrupted = 130,
};

constexpr const char* kExitCodes =
    "Exit codes: 0 ok; 1 kvstore error (its message is printed); 2 usage error;\n"
    "3 get found no entry / cas did not swap; 4 an import line is malformed;\n"
    "5 not supported by this library version; 130 interrupted (SIGINT/SIGTERM).";

struct UsageError {
  std::string message;
};
struct InputError {
  std::string message;
};

std::atomic<bool> g_stop{false};
extern "C" void on_signal(int) { g_stop.store(true); }

kvstore::KvKey parse_key(const std::string& text) {
  if (text.empty() || text.front() != '[') return {text};
  kvstore::Value array = kvstore::Value::parse(text, nullptr, false);
  if (!array.is_array())
    throw UsageError{"a key that starts with '[' must be a JSON array of strings"};
  kvstore::KvKey key;
  for (const kvstore::Value& component : array) {
    if (!component.is_string()) throw UsageError{"key components must be strings"};
    key.push_back(component.get<std::string>());
  }
  return key;
}

std::optional<kvstore::Value> parse_optional_value(const std::string& text) {
  if (text == "-") return std::nullopt;
  kvstore::Value value = kvstore::Value::parse(text, nullptr, false);
  if (value.is_discarded()) throw UsageError{"not valid JSON: " + text};
  return value;
}

kvstore::SetOptions set_options(const std::string& ttl) {
  kvstore::SetOptions options;
  if (!ttl.empty()) {
    options.ttl = kvstore::parse_duration(ttl);
    if (!options.ttl) throw UsageError{"--ttl takes a duration like 500ms or 5m, not " + ttl};
  }
  return options;
}

// The URL as it may be shown: without its password. A URL that does not
// parse is never echoed.
std::string shown(const std::string& url) {
  try {
    return kvstore::Url::parse(url).redacted();
  } catch (const kvstore::Error&) {
    return "<the URL>";
  }
}

std::string human_bytes(double bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int unit = 0;
  while (bytes >= 1024 && unit < 4) {
    bytes /= 1024;
    ++unit;
  }
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, unit == 0 ? "%.0f %s" : "%.1f %s", bytes, units[unit]);
  return buffer;
}

// Progress on stderr: a redrawn bar with rate and ETA on a terminal, a plain
// line every few seconds otherwise, nothing with --quiet.
class Progress {
 public:
  Progress(std::string verb, bool quiet, std::optional<std::uint64_t> total_units = std::nullopt)
      : verb_(std::move(verb)),
        quiet_(quiet),
        tty_(isatty(STDERR_FILENO) == 1),
        total_(total_units) {}

  void update(std::uint64_t entries, std::uint64_t bytes, std::uint64_t units_done = 0) {
    if (quiet_) return;
    auto now = std::chrono::steady_clock::now();
    if (now - last_ < (tty_ ? std::chrono::milliseconds(200) : std::chrono::milliseconds(5000)))
      return;
    last_ = now;
    double seconds = std::chrono::duration<double>(now - start_).count();
    double rate = seconds > 0 ? static_cast<double>(entries) / seconds : 0;
    std::ostringstream line;
    line << verb_ << ": " << entries << " entries, " << human_bytes(static_cast<double>(bytes))
         << ", " << static_cast<std::uint64_t>(rate) << " entries/s";
    if (total_ && *total_ > 0 && units_done > 0) {
      double fraction =
          std::min(1.0, static_cast<double>(units_done) / static_cast<double>(*total_));
      double eta = fraction > 0 ? seconds * (1 - fraction) / fraction : 0;
      if (tty_) {
        int filled = static_cast<int>(fraction * 20);
        line << " [" << std::string(filled, '#') << std::string(20 - filled, '.') << "]";
      }
      line << " " << static_cast<int>(fraction * 100) << "%, ETA " << static_cast<int>(eta) << "s";
    }
    if (tty_) {
      std::cerr << "\r\033[K" << line.str() << std::flush;
      drawn_ = true;
    } else {
      std::cerr << line.str() << "\n";
    }
  }
  void finish() {
    if (drawn_) std::cerr << "\r\033[K" << std::flush;
    drawn_ = false;
  }

 private:
  std::string verb_;
  bool quiet_;
  bool tty_;
  std::optional<std::uint64_t> total_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point last_ = start_;
};

// --- Batched writes (import, copy) ------------------------------------------

enum class Mode { overwrite, skip_existing };

struct Counts {
  std::uint64_t read = 0;     // entries taken from the source
  std::uint64_t written = 0;  // entries stored in the destination
  std::uint64_t bytes = 0;    // bytes of value text written
  std::uint64_t skipped = 0;  // already present (--skip-existing)
  std::uint64_t expired = 0;  // expired before they could be written

  kvstore::Value to_json() const {
    return {{"read", read},
            {"written", written},
            {"bytes", bytes},
            {"skipped", skipped},
            {"expired", expired}};
  }
  static Counts from_json(const kvstore::Value& v) {
    Counts c;
    c.read = v.at("read").get<std::uint64_t>();
    c.written = v.at("written").get<std::uint64_t>();
    c.bytes = v.at("bytes").get<std::uint64_t>();
    c.skipped = v.at("skipped").get<std::uint64_t>();
    c.expired = v.at("expired").get<std::uint64_t>();
    return c;
  }
};

struct Item {
  kvtool::LineEntry entry;
  std::uint64_t line = 0;  // import: the input line, for messages
};

// What one write of an entry came to.
enum class Outcome { written, skipped, expired };

// The options an entry is written with, or std::nullopt if its expiry has
// already passed (the store would reject it: it is counted as expired on the
// way instead).
std::optional<kvstore::SetOptions> options_for(const kvtool::LineEntry& entry) {
  kvstore::SetOptions options;
  options.metadata = entry.metadata;
  if (entry.expires_at) {
    // Rounded up: an expiry within the current millisecond is as good as past.
    auto now = std::chrono::ceil<std::chrono::milliseconds>(Clock::now());
    if (*entry.expires_at <= now) return std::nullopt;
    // kvstore keeps no expiry beyond kMaxTtl (100 years) ahead: a later one
    // is kept as the latest the store can hold. Clamping here, in
    // milliseconds, also keeps the conversion to Clock::duration (nanoseconds
    // on some libraries, which end in 2262) from overflowing.
    kvtool::TimePoint when = std::min<kvtool::TimePoint>(
        *entry.expires_at, now + kvstore::kMaxTtl - std::chrono::milliseconds(1));
    options.expires_at = std::chrono::time_point_cast<kvstore::Clock::duration>(when);
  }
  return options;
}

// Whether `error` means the entry's expires_at had passed by the time the
// store checked it: it was in the future when options_for() looked, so the
// store's invalid_argument is the race between the two, not bad input.
bool expired_meanwhile(const kvtool::LineEntry& entry, const kvstore::Error& error) {
  return error.code() == kvstore::ErrorCode::invalid_argument && entry.expires_at &&
         *entry.expires_at <= std::chrono::ceil<std::chrono::milliseconds>(Clock::now());
}

// Tests only (tests/tools/kvtool_test.sh): sleep this many milliseconds
// between the expiry check and the write, so that an entry can be made to
// expire in that window deterministically.
std::chrono::milliseconds test_pause() {
  const char* text = std::getenv("KVTOOL_TEST_PAUSE_BEFORE_WRITE_MS");
  return std::chrono::milliseconds(text ? std::strtol(text, nullptr, 10) : 0);
}

// One entry on its own: set_json (byte-exact) or, with --skip-existing,
// cas(key, absent, value).
Outcome write_one(kvstore::KvStore& store, const kvtool::LineEntry& entry,
                  const kvstore::SetOptions& options, Mode mode) {
  try {
    if (mode == Mode::overwrite) {
      store.set_json(entry.key, entry.json, options);
    } else if (!store.cas(entry.key, std::nullopt, kvstore::Value::parse(entry.json), options)) {
      return Outcome::skipped;
    }
  } catch (const kvstore::Error& e) {
    if (expired_meanwhile(entry, e)) return Outcome::expired;
    throw;
  }
  return Outcome::written;
}

// Whether set() would store `json` byte for byte. set_many() takes parsed
// values and stores their canonical text (Value::dump()), so only entries
// already in that form may go through it; the others keep set_json(), or an
// export -> import round trip would no longer be byte-exact.
bool canonical(const std::string& json) {
  kvstore::Value value = kvstore::Value::parse(json, nullptr, false);
  return !value.is_discarded() && value.dump() == json;
}

// Writes one batch. In overwrite mode consecutive entries in canonical text
// go to the store as set_many() calls (one per batch, or one per writer with
// --jobs > 1: a KvStore is thread-safe, and server drivers pool connections,
// so parallel calls hide round trips); the rest, and every --skip-existing
// write, are per-entry calls shared among `jobs` threads. Entries keep their
// order within a batch with one writer, so a key given twice ends with its
// last value.
void write_batch(kvstore::KvStore& store, std::vector<Item>& batch, Mode mode, unsigned jobs,
                 Counts& counts) {
  // A task: entries [begin, end) of `ready`, as one set_many() call (bulk)
  // or as one per-entry call (end == begin + 1).
  struct Ready {
    const Item* item;
    kvstore::SetOptions options;
  };
  struct Task {
    std::size_t begin, end;
    bool bulk;
  };
  std::vector<Ready> ready;
  std::uint64_t expired_before = 0;
  for (const Item& item : batch) {
    std::optional<kvstore::SetOptions> options = options_for(item.entry);
    if (!options) {
      ++expired_before;
      continue;
    }
    ready.push_back(Ready{&item, std::move(*options)});
  }
  std::vector<Task> tasks;
  if (mode == Mode::overwrite) {
    std::size_t bulk_entries = 0;
    std::vector<bool> is_canonical(ready.size());
    for (std::size_t i = 0; i < ready.size(); ++i) {
      is_canonical[i] = canonical(ready[i].item->entry.json);
      bulk_entries += is_canonical[i];
    }
    // Split so that each of `jobs` writers gets about one call.
    std::size_t per_call = std::max<std::size_t>(1, (bulk_entries + jobs - 1) / jobs);
    for (std::size_t i = 0; i < ready.size();) {
      if (!is_canonical[i]) {
        tasks.push_back(Task{i, i + 1, false});
        ++i;
        continue;
      }
      std::size_t end = i, bytes = 0;
      while (end < ready.size() && is_canonical[end] && end - i < per_call &&
             end - i < kvstore::kMaxBulkEntries &&
             bytes + ready[end].item->entry.json.size() <= kvstore::kMaxBulkBytes) {
        bytes += ready[end].item->entry.json.size();
        ++end;
      }
      if (end == i) ++end;  // one entry over kMaxBulkBytes: the store says so
      tasks.push_back(Task{i, end, true});
      i = end;
    }
  } else {
    for (std::size_t i = 0; i < ready.size(); ++i) tasks.push_back(Task{i, i + 1, false});
  }

  const std::chrono::milliseconds pause = test_pause();
  std::atomic<std::size_t> next{0};
  std::atomic<std::uint64_t> written{0}, bytes{0}, skipped{0}, expired{0};
  std::exception_ptr failure;
  std::string failure_context;
  std::mutex failure_mutex;
  auto one = [&](const Ready& r) {
    switch (write_one(store, r.item->entry, r.options, mode)) {
      case Outcome::written:
        ++written;
        bytes += r.item->entry.json.size();
        break;
      case Outcome::skipped:
        ++skipped;
        break;
      case Outcome::expired:
        ++expired;
        break;
    }
  };
  auto work = [&] {
    for (std::size_t t; (t = next.fetch_add(1)) < tasks.size();) {
      const Task& task = tasks[t];
      const Item* current = ready[task.begin].item;
      bool in_set_many = false;  // the failing call: set_many, or one entry's own
      try {
        if (pause.count() > 0) std::this_thread::sleep_for(pause);
        if (!task.bulk) {
          one(ready[task.begin]);
          continue;
        }
        std::vector<kvstore::SetEntry> entries;
        entries.reserve(task.end - task.begin);
        std::uint64_t call_bytes = 0;
        for (std::size_t i = task.begin; i < task.end; ++i) {
          const kvtool::LineEntry& entry = ready[i].item->entry;
          entries.push_back(
              kvstore::SetEntry{entry.key, kvstore::Value::parse(entry.json), ready[i].options});
          call_bytes += entry.json.size();
        }
        try {
          in_set_many = true;
          store.set_many(entries);
          in_set_many = false;
          written += entries.size();
          bytes += call_bytes;
        } catch (const kvstore::Error& e) {
          // set_many() checks the whole call before any I/O, so a rejected
          // call wrote nothing: writing its entries one by one finds the one
          // at fault (named in the message) or the ones whose expiry passed
          // after options_for() looked (counted as expired).
          if (e.code() != kvstore::ErrorCode::invalid_argument &&
              e.code() != kvstore::ErrorCode::limit_exceeded) {
            throw;
          }
          in_set_many = false;
          for (std::size_t i = task.begin; i < task.end; ++i) {
            current = ready[i].item;
            one(ready[i]);
          }
        }
      } catch (...) {
        std::lock_guard lock(failure_mutex);
        if (!failure) {
          failure = std::current_exception();
          failure_context =
              (current->line ? "line " + std::to_string(current->line) + ", " : std::string()) +
              "key " + kvstore::to_display_string(current->entry.key) +
              (in_set_many && task.end - task.begin > 1
                   ? " (a set_many of " + std::to_string(task.end - task.begin) +
                         " entries from it)"
                   : std::string()) +
              ": ";
        }
        next.store(tasks.size());
      }
    }
  };
  std::vector<std::thread> threads;
  for (unsigned t = 1; t < std::min<std::size_t>(jobs, tasks.size()); ++t)
    threads.emplace_back(work);
  work();
  for (std::thread& thread : threads) thread.join();
  counts.written += written;
  counts.bytes += bytes;
  counts.skipped += skipped;
  counts.expired += expired_before + expired;
  batch.clear();
  if (failure) {
    try {
      std::rethrow_exception(failure);
    } catch (const kvstore::Error& e) {
      throw kvstore::Error(e.code(), failure_context + e.message(), e.driver(), e.retryable(),
                           e.native_code(), e.outcome_unknown());
    } catch (const nlohmann::json::exception& e) {
      throw InputError{failure_context + e.what()};
    }
  }
}

struct WriteFlags {
  bool skip_existing = false;
  bool overwrite = false;
  std::size_t batch = 1000;
  unsigned jobs = 0;  // 0: by destination (jobs_for)
  bool quiet = false;
};

// Parallel writers hide the round trips of server drivers; an embedded store
// has none to hide, and its writers would only queue for one file lock.
unsigned jobs_for(const kvstore::KvStore& store, const WriteFlags& flags) {
  if (flags.jobs) return flags.jobs;
  return store.driver_name() == "sqlite" || store.driver_name() == "memory" ? 1 : 8;
}

void add_write_flags(CLI::App* command, WriteFlags& flags) {
  auto* skip = command->add_flag(
      "--skip-existing", flags.skip_existing,
      "keep entries the destination already has (written with cas(key, absent, value): "
      "atomic, but the value is stored re-serialized, JSON-equal rather than byte-exact)");
  auto* over = command->add_flag("--overwrite", flags.overwrite,
                                 "replace entries the destination has (the default)");
  skip->excludes(over);
  command
      ->add_option("--batch", flags.batch,
                   "entries per batch: the checkpoint granularity, written with one set_many call "
                   "per writer (at most 10000, set_many's limit)")
      ->capture_default_str()
      ->check(CLI::Range(1, 10000));
  command
      ->add_option("--jobs", flags.jobs,
                   "parallel writers per batch: the batch is split into this many set_many calls "
                   "(per-entry writes with --skip-existing); default 1 for sqlite/memory, 8 for "
                   "servers")
      ->check(CLI::Range(1, 64));
  command->add_flag("-q,--quiet", flags.quiet, "no progress output");
}

std::string summary(const std::string& verb, const Counts& c) {
  std::ostringstream out;
  out << verb << ": " << c.read << " entries read, " << c.written << " written, " << c.bytes
      << " bytes, " << c.skipped << " skipped (existing), " << c.expired << " expired on the way";
  return out.str();
}

// --- Commands ----------------------------------------------------------------

// A listed entry as export writes it and copy carries it: the stored text,
// the metadata and the expiry (kept to the millisecond, as the store does).
kvtool::LineEntry line_of(const kvstore::JsonEntry& entry) {
  kvtool::LineEntry line{entry.key, entry.json, std::nullopt, entry.metadata};
  if (entry.expires_at)
    line.expires_at = std::chrono::floor<std::chrono::milliseconds>(*entry.expires_at);
  return line;
}

int run_export(const std::string& url, const std::string& prefix_text, const std::string& output,
               bool quiet) {
  kvstore::KvKey prefix = prefix_text.empty() ? kvstore::KvKey{} : parse_key(prefix_text);
  auto store = kvstore::open(url);
  std::FILE* out = stdout;
  std::string temporary;
  if (!output.empty() && output != "-") {
    // Written aside and renamed, so a failed export never leaves a file that
    // looks complete.
    temporary = output + ".partial";
    out = std::fopen(temporary.c_str(), "wb");
    if (!out) throw UsageError{"cannot write " + temporary};
  }
  Progress progress("export", quiet);
  Counts counts;
  std::string buffer;
  for (const kvstore::JsonEntry& entry : store->list_json(prefix)) {
    kvtool::append_line(buffer, line_of(entry));
    ++counts.read;
    counts.bytes += entry.json.size();
    if (buffer.size() >= (1 << 16)) {
      if (std::fwrite(buffer.data(), 1, buffer.size(), out) != buffer.size())
        throw UsageError{"write failed"};
      buffer.clear();
      progress.update(counts.read, counts.bytes);
    }
    if (g_stop) break;
  }
  bool ok = std::fwrite(buffer.data(), 1, buffer.size(), out) == buffer.size();
  ok = (out == stdout ? std::fflush(out) : std::fclose(out)) == 0 && ok;
  progress.finish();
  if (!ok) throw UsageError{"write failed"};
  if (g_stop) {
    std::cerr << "export: interrupted after " << counts.read << " entries\n";
    return kInterrupted;
  }
  if (!temporary.empty()) std::filesystem::rename(temporary, output);
  if (!quiet) std::cerr << "export: " << counts.read << " entries, " << counts.bytes << " bytes\n";
  return kOk;
}

int run_import(const std::string& url, const std::string& input, const WriteFlags& flags) {
  auto store = kvstore::open(url);
  std::ifstream file;
  std::istream* in = &std::cin;
  std::optional<std::uint64_t> total;
  if (!input.empty() && input != "-") {
    file.open(input, std::ios::binary);
    if (!file) throw UsageError{"cannot read " + input};
    in = &file;
    std::error_code ec;
    auto size = std::filesystem::file_size(input, ec);
    if (!ec) total = size;
  }
  Mode mode = flags.skip_existing ? Mode::skip_existing : Mode::overwrite;
  Progress progress("import", flags.quiet, total);
  Counts counts;
  std::vector<Item> batch;
  std::string line;
  std::uint64_t line_number = 0, consumed = 0;
  while (!g_stop && std::getline(*in, line)) {
    ++line_number;
    consumed += line.size() + 1;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    Item item;
    item.line = line_number;
    try {
      item.entry = kvtool::parse_line(line);
    } catch (const kvtool::LineError& e) {
      throw InputError{"line " + std::to_string(line_number) + ": " + e.message};
    }
    ++counts.read;
    batch.push_back(std::move(item));
    if (batch.size() >= flags.batch) {
      write_batch(*store, batch, mode, jobs_for(*store, flags), counts);
      progress.update(counts.read, counts.bytes, consumed);
    }
  }
  if (!g_stop) write_batch(*store, batch, mode, jobs_for(*store, flags), counts);
  progress.finish();
  std::cerr << summary("import", counts) << (g_stop ? " (interrupted)" : "") << "\n";
  return g_stop ? kInterrupted : kOk;
}

// copy's checkpoint: the last key of the last batch fully written, and the
// counts so far, replaced atomically (write aside, rename) after each batch.
struct Checkpoint {
  std::string source, destination;  // redacted URLs: a resume must name the same stores
  kvstore::KvKey prefix;
  std::optional<kvstore::KvKey> last_key;
  bool complete = false;
  Counts counts;

  void save(const std::string& path) const {
    kvstore::Value v = {{"kvtool_copy_checkpoint", 1}, {"source", source},
                        {"destination", destination},  {"prefix", prefix},
                        {"complete", complete},        {"counts", counts.to_json()}};
    v["last_key"] = last_key ? kvstore::Value(*last_key) : kvstore::Value(nullptr);
    std::string temporary = path + ".tmp";
    {
      std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
      out << v.dump() << "\n";
      if (!out.flush()) throw UsageError{"cannot write the checkpoint " + temporary};
    }
    std::filesystem::rename(temporary, path);
  }
  static Checkpoint load(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    kvstore::Value v = kvstore::Value::parse(in, nullptr, false);
    if (v.is_discarded() || !v.is_object() || !v.contains("kvtool_copy_checkpoint")) {
      throw UsageError{path + " is not a kvtool copy checkpoint"};
    }
    Checkpoint c;
    c.source = v.at("source").get<std::string>();
    c.destination = v.at("destination").get<std::string>();
    c.prefix = v.at("prefix").get<kvstore::KvKey>();
    if (!v.at("last_key").is_null()) c.last_key = v.at("last_key").get<kvstore::KvKey>();
    c.complete = v.at("complete").get<bool>();
    c.counts = Counts::from_json(v.at("counts"));
    return c;
  }
};

int run_copy(const std::string& source_url, const std::string& destination_url,
             const std::string& prefix_text, const std::string& checkpoint_path, bool resume,
             std::uint64_t limit, const WriteFlags& flags) {
  kvstore::KvKey prefix = prefix_text.empty() ? kvstore::KvKey{} : parse_key(prefix_text);
  if (resume && checkpoint_path.empty()) throw UsageError{"--resume needs --checkpoint FILE"};
  Checkpoint checkpoint{shown(source_url), shown(destination_url), prefix, std::nullopt, false, {}};
  if (checkpoint.source == checkpoint.destination)
    throw UsageError{"the source and the destination are the same store"};
  bool have_file = !checkpoint_path.empty() && std::filesystem::exists(checkpoint_path);
  if (have_file && !resume) {
    throw UsageError{"the checkpoint " + checkpoint_path +
                     " exists: pass --resume to continue that copy, or remove it"};
  }
  if (resume && have_file) {
    Checkpoint saved = Checkpoint::load(checkpoint_path);
    if (saved.source != checkpoint.source || saved.destination != checkpoint.destination ||
        saved.prefix != prefix) {
      throw UsageError{"the checkpoint " + checkpoint_path + " belongs to the copy " +
                       saved.source + " -> " + saved.destination + " prefix " +
                       kvstore::Value(saved.prefix).dump()};
    }
    checkpoint = saved;
    if (checkpoint.complete) {
      std::cerr << summary("copy", checkpoint.counts) << " (already complete)\n";
      return kOk;
    }
    std::cerr << "copy: resuming after "
              << (checkpoint.last_key ? kvstore::to_display_string(*checkpoint.last_key)
                                      : "the start")
              << "\n";
  } else if (resume) {
    std::cerr << "copy: no checkpoint at " << checkpoint_path << "; starting from the beginning\n";
  }

  auto source = kvstore::open(source_url);
  auto destination = kvstore::open(destination_url);
  destination->ping();  // fail before reading anything if the destination is down
  Mode mode = flags.skip_existing ? Mode::skip_existing : Mode::overwrite;
  Progress progress("copy", flags.quiet);
  kvstore::ListOptions list_options;
  list_options.start_after = checkpoint.last_key;
  std::vector<Item> batch;
  std::uint64_t this_run = 0;
  bool stopped_by_limit = false;
  auto flush = [&] {
    if (batch.empty()) return;
    kvstore::KvKey last = batch.back().entry.key;
    write_batch(*destination, batch, mode, jobs_for(*destination, flags), checkpoint.counts);
    checkpoint.last_key = std::move(last);
    if (!checkpoint_path.empty()) checkpoint.save(checkpoint_path);
    progress.update(checkpoint.counts.read, checkpoint.counts.bytes);
  };
  for (const kvstore::JsonEntry& entry : source->list_json(prefix, list_options)) {
    if (g_stop) break;
    if (limit && this_run >= limit) {
      stopped_by_limit = true;
      break;
    }
    batch.push_back(Item{line_of(entry), 0});
    ++checkpoint.counts.read;
    ++this_run;
    if (batch.size() >= flags.batch) flush();
  }
  if (!g_stop) flush();
  progress.finish();
  checkpoint.complete = !g_stop && !stopped_by_limit;
  if (!checkpoint_path.empty()) checkpoint.save(checkpoint_path);
  std::cerr << summary("copy", checkpoint.counts)
            << (checkpoint.complete ? " (complete)"
                : g_stop            ? " (interrupted; --resume continues)"
                                    : " (stopped at --limit; --resume continues)")
            << "\n";
  return g_stop ? kInterrupted : kOk;
}

int run_stats(const std::string& url, const std::string& prefix_text, bool as_json) {
  kvstore::KvKey prefix = prefix_text.empty() ? kvstore::KvKey{} : parse_key(prefix_text);
  auto store = kvstore::open(url);
  struct Group {
    std::uint64_t entries = 0, bytes = 0;
  };
  // Entries with an expiry. The values are read anyway (stats counts their
  // bytes), so list_json gives the expiries too; list_keys would not save a
  // read.
  std::uint64_t with_ttl = 0;
  Group total;
  std::map<std::string, Group> by_first;
  for (const kvstore::JsonEntry& entry : store->list_json(prefix)) {
    Group& group = by_first[entry.key.front()];
    ++group.entries;
    group.bytes += entry.json.size();
    ++total.entries;
    total.bytes += entry.json.size();
    if (entry.expires_at) ++with_ttl;
    if (g_stop) return kInterrupted;
  }
  if (as_json) {
    kvstore::Value groups = kvstore::Value::object();
    for (const auto& [first, group] : by_first)
      groups[first] = {{"entries", group.entries}, {"bytes", group.bytes}};
    std::cout << kvstore::Value{{"entries", total.entries},
                                {"bytes", total.bytes},
                                {"with_ttl", with_ttl},
                                {"by_first_component", groups}}
                     .dump()
              << "\n";
  } else {
    std::cout << "entries\t" << total.entries << "\nbytes\t" << total.bytes << "\nwith_ttl\t"
              << with_ttl << "\n";
    for (const auto& [first, group] : by_first) {
      std::cout << kvstore::Value(first).dump() << "\t" << group.entries << "\t" << group.bytes
                << "\n";
    }
  }
  return kOk;
}

// kvtool URL COMMAND ... (the order before subcommands) still works.
std::vector<std::string> normalized_args(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  static const std::vector<std::string> kLegacy = {"get", "set", "rm", "cas", "list"};
  if (args.size() >= 2 && args[0].find(':') != std::string::npos &&
      std::find(kLegacy.begin(), kLegacy.end(), args[1]) != kLegacy.end()) {
    std::swap(args[0], args[1]);
  }
  return args;
}

}  // namespace

int main(int argc, char** argv) {
  std::ios::sync_with_stdio(false);
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);

  CLI::App app{
      "kvtool: inspect, export, import and migrate any kvstore (memory:, sqlite:, redis://, "
      "postgres://, mysql://). Passwords in URLs are never printed.",
      "kvtool"};
  app.require_subcommand(1);
  app.footer(std::string("KEY and PREFIX are JSON arrays of strings "
                         "('[\"_fedify\",\"publicKey\"]'); any other text "
                         "is a one-component key. Durations: 500ms, 5s, 2m, 1h.\n") +
             kExitCodes + "\nManual: docs/kvtool.md, man kvtool.");

  std::string url, url2, key, json, expected, desired, ttl, prefix, output, input, after,
      checkpoint;
  std::size_t limit = 0;
  std::uint64_t copy_limit = 0;
  bool quiet = false, as_json = false, resume = false;
  WriteFlags flags;

  auto* get = app.add_subcommand("get", "print the stored JSON text of KEY (exit 3 if absent)");
  get->add_option("URL", url, "store URL")->required();
  get->add_option("KEY", key, "key")->required();

  auto* set = app.add_subcommand("set", "store JSON text at KEY, exactly as given");
  set->add_option("URL", url, "store URL")->required();
  set->add_option("KEY", key, "key")->required();
  set->add_option("JSON", json, "the value's JSON text")->required();
  set->add_option("--ttl", ttl, "expire after this long (500ms, 5s, 2m, 1h)");

  auto* rm = app.add_subcommand("rm", "remove KEY (removing an absent key is not an error)");
  rm->add_option("URL", url, "store URL")->required();
  rm->add_option("KEY", key, "key")->required();

  auto* cas =
      app.add_subcommand("cas", "compare-and-swap: '-' means absent; exit 0 if swapped, 3 if not");
  cas->add_option("URL", url, "store URL")->required();
  cas->add_option("KEY", key, "key")->required();
  cas->add_option("EXPECTED", expected, "expected JSON value, or - for absent")->required();
  cas->add_option("DESIRED", desired, "new JSON value, or - to remove")->required();
  cas->add_option("--ttl", ttl, "TTL of the new value");

  auto* list = app.add_subcommand("list", "print KEY<TAB>JSON lines in key order");
  list->add_option("URL", url, "store URL")->required();
  list->add_option("PREFIX", prefix, "only keys equal to or under PREFIX");
  list->add_option("--limit", limit, "at most N entries");
  list->add_option("--after", after, "start strictly after this key");

  auto* exp =
      app.add_subcommand("export", "write every entry under PREFIX as JSON Lines (docs/kvtool.md)");
  exp->add_option("URL", url, "store URL")->required();
  exp->add_option("PREFIX", prefix, "only keys equal to or under PREFIX");
  exp->add_option("-o,--output", output,
                  "write to FILE (via FILE.partial, renamed when complete) instead of stdout");
  exp->add_flag("-q,--quiet", quiet, "no progress or summary output");

  auto* imp = app.add_subcommand(
      "import",
      "store the entries of a JSON Lines file (or stdin), with their expires_at and metadata");
  imp->add_option("URL", url, "store URL")->required();
  imp->add_option("FILE", input, "JSON Lines input; - or absent: stdin");
  add_write_flags(imp, flags);

  auto* copy = app.add_subcommand(
      "copy", "copy every entry under PREFIX from SRC_URL to DST_URL, streaming, in batches");
  copy->add_option("SRC_URL", url, "source store URL")->required();
  copy->add_option("DST_URL", url2, "destination store URL")->required();
  copy->add_option("PREFIX", prefix, "only keys equal to or under PREFIX");
  copy->add_option("--checkpoint", checkpoint,
                   "record progress in FILE after each batch (the last key written, the counts)");
  copy->add_flag("--resume", resume,
                 "continue the copy recorded in --checkpoint strictly after its last key");
  copy->add_option("--limit", copy_limit,
                   "stop after N entries in this run (continue later with --resume)");
  add_write_flags(copy, flags);

  auto* purge = app.add_subcommand("purge-expired",
                                   "NOT AVAILABLE YET: this kvstore has no public call that runs "
                                   "the expiry sweep; expired entries are "
                                   "already invisible, and the SQL drivers delete them in bounded "
                                   "batches as writes go (sweep_interval, "
                                   "sweep_batch URL parameters). Exits 5.");
  purge->add_option("URL", url, "store URL")->required();

  auto* stats = app.add_subcommand(
      "stats", "count entries and value bytes under PREFIX, by first key component");
  stats->add_option("URL", url, "store URL")->required();
  stats->add_option("PREFIX", prefix, "only keys equal to or under PREFIX");
  stats->add_flag("--json", as_json, "one JSON object instead of text lines");

  std::vector<std::string> args = normalized_args(argc, argv);
  std::reverse(args.begin(), args.end());  // CLI11 takes the arguments reversed
  try {
    app.parse(args);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? kOk : kUsage;
  }

  try {
    if (*get) {
      std::optional<std::string> text = kvstore::open(url)->get_json(parse_key(key));
      if (!text) return kNegative;
      std::cout << *text << "\n";
    } else if (*set) {
      kvstore::SetOptions options = set_options(ttl);
      kvstore::open(url)->set_json(parse_key(key), json, options);
    } else if (*rm) {
      kvstore::open(url)->remove(parse_key(key));
    } else if (*cas) {
      kvstore::SetOptions options = set_options(ttl);
      kvstore::KvKey k = parse_key(key);
      auto e = parse_optional_value(expected);
      auto d = parse_optional_value(desired);
      bool swapped = kvstore::open(url)->cas(k, e, d, options);
      std::cout << (swapped ? "swapped" : "not swapped") << "\n";
      return swapped ? kOk : kNegative;
    } else if (*list) {
      kvstore::ListOptions options;
      if (limit) options.limit = limit;
      if (!after.empty()) options.start_after = parse_key(after);
      kvstore::KvKey p = prefix.empty() ? kvstore::KvKey{} : parse_key(prefix);
      auto store = kvstore::open(url);  // outlives the listing
      for (const kvstore::JsonEntry& entry : store->list_json(p, options)) {
        std::cout << kvstore::to_display_string(entry.key) << "\t" << entry.json << "\n";
      }
    } else if (*exp) {
      return run_export(url, prefix, output, quiet);
    } else if (*imp) {
      return run_import(url, input, flags);
    } else if (*copy) {
      return run_copy(url, url2, prefix, checkpoint, resume, copy_limit, flags);
    } else if (*purge) {
      kvstore::open(url);  // a bad URL is still reported as such
      std::cerr << "kvtool: purge-expired is not supported by this kvstore version: the library "
                   "has no public "
                   "call that runs the expiry sweep (expired entries are invisible already and are "
                   "deleted in "
                   "bounded batches as writes go)\n";
      return kUnsupported;
    } else if (*stats) {
      return run_stats(url, prefix, as_json);
    }
    std::cout.flush();
    return kOk;
  } catch (const UsageError& e) {
    std::cerr << "kvtool: " << e.message << "\n";
    return kUsage;
  } catch (const InputError& e) {
    std::cerr << "kvtool: " << e.message << "\n";
    return kBadInput;
  } catch (const kvstore::Error& e) {
    std::cerr << "kvtool: " << e.what() << "\n";
    return kStoreError;
  } catch (const std::exception& e) {
    std::cerr << "kvtool: " << e.what() << "\n";
    return kStoreError;
  }
}
