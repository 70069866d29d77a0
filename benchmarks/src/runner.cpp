#include "runner.h"

#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <exception>
#include <latch>
#include <mutex>
#include <stdexcept>
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

void merge_into(RunResult& result, Worker& w) {
  for (int op = 0; op < kOpKinds; ++op) {
    OpStats& from = w.recorder.all()[static_cast<std::size_t>(op)];
    OpStats& to = result.ops[static_cast<std::size_t>(op)];
    to.latency.merge(from.latency);
    to.hits += from.hits;
    to.entries += from.entries;
  }
}

std::string describe(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "unknown exception";
  }
}

// One chain of the async mode. Only the completion of its own last step
// touches it, so it needs no lock; `done` is read by the progress bar.
struct alignas(64) Slot {
  Worker w;
  std::uint64_t budget = UINT64_MAX;
  std::uint64_t errors = 0;
  std::atomic<std::uint64_t> done{0};
};

}  // namespace

RunResult run_workload_async(Workload& workload, Backend& backend, Mode mode,
                             const RunSettings& settings) {
  const int n = settings.inflight;
  std::unique_ptr<AsyncSession> session = backend.async_session(mode);
  if (!session) throw std::runtime_error(backend.name() + " has no async API");
  workload.begin_run(n);
  std::vector<Slot> slots(static_cast<std::size_t>(n));
  std::atomic<bool> stop{false};
  std::mutex mutex;  // guards first_error and chains_left
  std::condition_variable finished;
  int chains_left = n;
  std::atomic<std::uint64_t> error_count{0};
  RunResult result;
  const std::uint64_t min_steps = settings.ops ? 0 : workload.min_steps_per_thread();
  for (int i = 0; i < n; ++i) {
    Slot& slot = slots[static_cast<std::size_t>(i)];
    // The same seeds as the threads of a thread mode.
    slot.w.index = i;
    slot.w.threads = n;
    slot.w.rng = Rng(settings.seed * 1000003 + static_cast<std::uint64_t>(i) * 7919 + 1);
    slot.w.can_list = backend.supports(OpKind::list);
    workload.init_worker(slot.w);
    if (settings.ops) {
      slot.budget = *settings.ops / static_cast<std::uint64_t>(n) +
                    (static_cast<std::uint64_t>(i) < *settings.ops % static_cast<std::uint64_t>(n));
    }
  }

  // Starts the next step of `slot`, or ends its chain. The next step is
  // issued from the completion of the last one, on the completing kvstore
  // thread: signalling this thread instead would add a thread wake-up per
  // operation, which measures the harness, not the library.
  std::function<void(Slot&)> issue = [&](Slot& slot) {
    const std::uint64_t done = slot.done.load(std::memory_order_relaxed);
    if (done >= slot.budget || (done >= min_steps && stop.load(std::memory_order_relaxed))) {
      std::lock_guard lock(mutex);
      // Notified under the lock: the waiter may return (and destroy this
      // frame's state) as soon as it sees the count reach zero.
      if (--chains_left == 0) finished.notify_all();
      return;
    }
    auto next = [&](std::exception_ptr error) {
      if (error) {
        if (error_count.fetch_add(1) == 0) {
          std::string message = describe(error);
          std::lock_guard lock(mutex);
          result.first_error = message;
        }
        // A backend that fails every call would spin; end this chain.
        if (++slot.errors >= 1000) slot.budget = 0;
      }
      slot.done.store(slot.done.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
      issue(slot);
    };
    try {
      workload.step_async(slot.w, *session, next);
    } catch (const std::exception& e) {
      // Not through the callback: the step never started, so the chain ends.
      if (error_count.fetch_add(1) == 0) {
        std::lock_guard lock(mutex);
        result.first_error = e.what();
      }
      std::lock_guard lock(mutex);
      if (--chains_left == 0) finished.notify_all();
    }
  };

  auto start = std::chrono::steady_clock::now();
  for (Slot& slot : slots) issue(slot);
  const std::uint64_t total_budget = settings.ops.value_or(0);
  std::unique_lock lock(mutex);
  for (;;) {
    if (finished.wait_for(lock, std::chrono::milliseconds(settings.ops ? 20 : 10),
                          [&] { return chains_left == 0; })) {
      break;
    }
    double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    double fraction;
    if (settings.ops) {
      std::uint64_t done = 0;
      for (const Slot& slot : slots) done += slot.done.load(std::memory_order_relaxed);
      fraction = static_cast<double>(done) / static_cast<double>(total_budget);
    } else {
      fraction = elapsed / settings.duration_s;
      if (elapsed >= settings.duration_s) stop.store(true);
    }
    if (settings.progress) {
      lock.unlock();
      draw_bar(settings.label, fraction > 1 ? 1 : fraction);
      lock.lock();
    }
  }
  lock.unlock();
  result.errors = error_count.load();
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (settings.progress) clear_bar();
  for (Slot& slot : slots) merge_into(result, slot.w);
  return result;
}

RunResult run_workload(Workload& workload, Backend& backend, Mode mode,
                       const RunSettings& settings) {
  if (settings.inflight > 0) return run_workload_async(workload, backend, mode, settings);
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

  for (Worker& w : workers) merge_into(result, w);
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
