#include "runner.h"

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <exception>
#include <latch>
#include <mutex>
#include <thread>
#include <vector>

namespace kvbench {

bool stderr_is_terminal() { return isatty(STDERR_FILENO) == 1; }

namespace {

// Per-thread counter on its own cache line, read by the progress bar.
struct alignas(64) Progress {
  std::atomic<std::uint64_t> done{0};
};

void draw_bar(const std::string& label, double fraction) {
  constexpr int kWidth = 30;
  int filled = static_cast<int>(fraction * kWidth + 0.5);
  std::string bar(static_cast<std::size_t>(filled), '#');
  bar.resize(kWidth, '.');
  std::fprintf(stderr, "\r\033[K[%s] %3d%% %s", bar.c_str(), static_cast<int>(fraction * 100),
               label.c_str());
  std::fflush(stderr);
}

void clear_bar() {
  std::fprintf(stderr, "\r\033[K");
  std::fflush(stderr);
}

}  // namespace

RunResult run_workload(Workload& workload, Backend& backend, Mode mode,
                       const RunSettings& settings) {
  const int n = settings.threads;
  workload.begin_run(n);
  std::vector<Worker> workers(static_cast<std::size_t>(n));
  std::vector<Progress> progress(static_cast<std::size_t>(n));
  std::atomic<bool> stop{false};
  std::latch ready(n + 1);
  std::latch go(1);
  std::mutex error_mutex;
  std::atomic<std::uint64_t> error_count{0};
  RunResult result;
  auto note_error = [&](const std::string& message) {
    if (error_count.fetch_add(1) == 0) {
      std::lock_guard lock(error_mutex);
      result.first_error = message;
    }
  };

  std::vector<std::thread> threads;
  threads.reserve(static_cast<std::size_t>(n));
  for (int t = 0; t < n; ++t) {
    threads.emplace_back([&, t] {
      Worker& w = workers[static_cast<std::size_t>(t)];
      w.index = t;
      w.threads = n;
      w.rng = Rng(settings.seed * 1000003 + static_cast<std::uint64_t>(t) * 7919 + 1);
      w.can_list = backend.supports(OpKind::list);
      workload.init_worker(w);
      std::unique_ptr<Session> session;
      try {
        session = backend.session(mode);
      } catch (const std::exception& e) {
        note_error(std::string("session: ") + e.what());
      }
      ready.count_down();
      go.wait();
      if (!session) return;
      std::uint64_t budget = UINT64_MAX;
      if (settings.ops) {
        budget = *settings.ops / static_cast<std::uint64_t>(n) +
                 (static_cast<std::uint64_t>(t) < *settings.ops % static_cast<std::uint64_t>(n));
      }
      std::uint64_t done = 0, errors = 0;
      auto& counter = progress[static_cast<std::size_t>(t)].done;
      const std::uint64_t min_steps = settings.ops ? 0 : workload.min_steps_per_thread();
      while (done < budget && (done < min_steps || !stop.load(std::memory_order_relaxed))) {
        try {
          workload.step(w, *session);
        } catch (const std::exception& e) {
          note_error(e.what());
          // A backend that fails every call would spin; give up on this thread.
          if (++errors >= 1000) break;
        }
        counter.store(++done, std::memory_order_relaxed);
      }
    });
  }

  ready.arrive_and_wait();
  auto start = std::chrono::steady_clock::now();
  go.count_down();
  // The main thread keeps time and draws the bar; workers never touch stdout.
  std::uint64_t total_budget = settings.ops.value_or(0);
  for (;;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(settings.ops ? 20 : 10));
    double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    double fraction;
    if (settings.ops) {
      std::uint64_t done = 0;
      for (auto& p : progress) done += p.done.load(std::memory_order_relaxed);
      fraction = static_cast<double>(done) / static_cast<double>(total_budget);
      bool all_finished = done >= total_budget;
      if (all_finished) break;
      // A thread that gave up after errors never reaches its budget.
      if (error_count.load() >= 1000 * static_cast<std::uint64_t>(n)) break;
    } else {
      fraction = elapsed / settings.duration_s;
      if (elapsed >= settings.duration_s) {
        stop.store(true);
        break;
      }
    }
    if (settings.progress) draw_bar(settings.label, fraction > 1 ? 1 : fraction);
  }
  for (auto& t : threads) t.join();
  result.errors = error_count.load();
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (settings.progress) clear_bar();

  for (Worker& w : workers) {
    for (int op = 0; op < kOpKinds; ++op) {
      OpStats& from = w.recorder.all()[static_cast<std::size_t>(op)];
      OpStats& to = result.ops[static_cast<std::size_t>(op)];
      to.latency.merge(from.latency);
      to.hits += from.hits;
      to.entries += from.entries;
    }
  }
  return result;
}

void BackendLoader::load(std::size_t count, const Session::ItemFn& item, Ttl ttl) {
  if (count == 0) return;
  int n = static_cast<int>(std::min<std::size_t>(static_cast<std::size_t>(threads_), count));
  std::vector<std::thread> threads;
  std::exception_ptr error;
  std::mutex mutex;
  for (int t = 0; t < n; ++t) {
    std::size_t begin = count * static_cast<std::size_t>(t) / static_cast<std::size_t>(n);
    std::size_t end = count * static_cast<std::size_t>(t + 1) / static_cast<std::size_t>(n);
    threads.emplace_back([&, begin, end] {
      try {
        std::unique_ptr<Session> session = backend_.session(Mode::text);
        session->load(begin, end, item, ttl);
      } catch (...) {
        std::lock_guard lock(mutex);
        if (!error) error = std::current_exception();
      }
    });
  }
  for (auto& t : threads) t.join();
  if (error) std::rethrow_exception(error);
}

}  // namespace kvbench
