// Workloads: documented operation mixes. A workload prepares its data once per
// backend and phase, then each worker thread calls step() in a loop; step()
// performs one logical operation and times it through the Recorder.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "backend.h"
#include "histogram.h"
#include "random.h"

namespace kvbench {

struct OpStats {
  Histogram latency;          // nanoseconds per call
  std::uint64_t hits = 0;     // get: found; cas: swapped
  std::uint64_t entries = 0;  // list: entries returned
};

// Per-thread timing of operations.
class Recorder {
 public:
  template <class F>
  auto time(OpKind op, F&& f) {
    auto start = std::chrono::steady_clock::now();
    auto result = f();
    auto stop = std::chrono::steady_clock::now();
    stats_[static_cast<int>(op)].latency.record(static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(stop - start).count()));
    return result;
  }
  // The async modes time a call from issue to completion: start() before
  // the call, record() in its completion.
  static std::chrono::steady_clock::time_point start() { return std::chrono::steady_clock::now(); }
  void record(OpKind op, std::chrono::steady_clock::time_point start) {
    auto stop = std::chrono::steady_clock::now();
    stats_[static_cast<int>(op)].latency.record(static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(stop - start).count()));
  }
  OpStats& stats(OpKind op) { return stats_[static_cast<int>(op)]; }
  std::array<OpStats, kOpKinds>& all() { return stats_; }

 private:
  std::array<OpStats, kOpKinds> stats_;
};

// One thread of a thread mode, or one slot (a chain of operations, one in
// flight at a time) of an async mode; then `threads` counts the slots.
struct Worker {
  int index = 0;
  int threads = 1;
  Rng rng{0};
  Recorder recorder;
  std::uint64_t counter = 0;       // per-thread sequence for unique keys
  std::vector<std::int64_t> seen;  // cas-contention: last value seen per key
  bool can_list = true;            // the backend offers list (raw-redis does not)
};

struct WorkloadParams {
  std::size_t keys = 10000;
  std::size_t value_size = 1024;
  std::size_t list_entries = 10000;
  std::size_t list_background = 1000000;
  std::uint64_t seed = 42;
  std::string ns;  // first key component: isolates runs sharing a store
};

// Writes entries into a backend (splits the work over a few threads).
class Loader {
 public:
  virtual ~Loader() = default;
  virtual void load(std::size_t count, const Session::ItemFn& item, Ttl ttl) = 0;
};

class Workload {
 public:
  explicit Workload(WorkloadParams params) : p_(std::move(params)) {}
  virtual ~Workload() = default;
  virtual std::string name() const = 0;
  virtual std::string description() const = 0;
  virtual std::vector<Mode> default_modes() const { return {Mode::json}; }
  // Operations step() needs; a backend lacking one skips the workload.
  virtual std::vector<OpKind> ops() const = 0;
  virtual int phases() const { return 1; }
  // Timed runs go on past --duration until each thread did this many steps
  // (slow operations would otherwise leave too few samples).
  virtual std::uint64_t min_steps_per_thread() const { return 0; }
  // A label for phase `phase` ("" when there is one phase).
  virtual std::string phase_label(int phase) const {
    (void)phase;
    return "";
  }
  // Loads what `phase` needs (adding to the previous phases' data).
  virtual void prepare(int phase, Loader& loader) {
    (void)phase;
    (void)loader;
  }
  // Called before each timed run (shared counters are reset).
  virtual void begin_run(int threads) { (void)threads; }
  virtual void init_worker(Worker& w) { (void)w; }
  virtual void step(Worker& w, Session& s) = 0;
  // The async form of step(): starts the same logical operation through `s`
  // and calls `done` once it completed (with the first error, if any), on
  // the completing thread. Calls for one Worker never overlap, but they may
  // come from different threads, one after the other.
  using StepDone = std::function<void(std::exception_ptr)>;
  virtual void step_async(Worker& w, AsyncSession& s, StepDone done) = 0;

 protected:
  WorkloadParams p_;
};

std::vector<std::string> workload_names();
// Throws std::invalid_argument for an unknown name.
std::unique_ptr<Workload> make_workload(const std::string& name, const WorkloadParams& params);

// A deterministic JSON-LD document of about `size` bytes of JSON text.
Value make_document(const std::string& id, std::size_t size, std::uint64_t seed);

}  // namespace kvbench
