// The runner: worker threads, timing, merged histograms, and the progress bar.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "backend.h"
#include "workload.h"

namespace kvbench {

struct RunSettings {
  int threads = 1;
  // > 0: the async mode instead of threads — run_workload_async() keeps
  // this many operations in flight.
  int inflight = 0;
  std::optional<std::uint64_t> ops;  // total over all threads; else duration_s
  double duration_s = 1.0;
  std::uint64_t seed = 42;
  bool progress = false;  // draw a bar on stderr
  std::string label;      // shown next to the bar
};

struct RunResult {
  double seconds = 0;
  std::array<OpStats, kOpKinds> ops;  // merged over threads
  std::uint64_t errors = 0;
  std::string first_error;
};

// Runs `workload` on `backend` with settings.threads threads. Each thread
// opens its own session (not timed), then all start together.
RunResult run_workload(Workload& workload, Backend& backend, Mode mode,
                       const RunSettings& settings);

// The async mode: settings.inflight slots, each a chain of workload steps
// through backend.async_session() with one operation in flight; the calling
// thread starts every chain, and each completion starts its slot's next
// step (on the completing thread). Throws std::runtime_error if the backend
// has no async API. run_workload() calls this when settings.inflight > 0.
RunResult run_workload_async(Workload& workload, Backend& backend, Mode mode,
                             const RunSettings& settings);

// A Loader that writes through `threads` sessions of `backend` in parallel.
class BackendLoader final : public Loader {
 public:
  BackendLoader(Backend& backend, int threads) : backend_(backend), threads_(threads) {}
  void load(std::size_t count, const Session::ItemFn& item, Ttl ttl) override;

 private:
  Backend& backend_;
  int threads_;
};

// Whether stderr is a terminal (the progress bar is only drawn then).
bool stderr_is_terminal();

}  // namespace kvbench
