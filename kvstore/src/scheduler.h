// Scheduler: the store's timer thread (internal).
//
// It runs what must not run inside an initiating call (completions of
// calls that fail validation, entries a cursor already holds) and fires the
// deadlines of pending calls. One thread, started on first use. A task may
// destroy the store that owns the scheduler: the thread then detaches and
// exits once the task returns.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include <kvstore/callback.h>
#include <kvstore/error.h>

namespace kvstore::detail {

using Task = UniqueFunction<void()>;
using SteadyTime = std::chrono::steady_clock::time_point;

// Something with a deadline the scheduler fires (a pending call).
class Expirable {
 public:
  virtual ~Expirable() = default;
  // The deadline passed.
  virtual void expire() = 0;
  // The store is closing.
  virtual void close() = 0;
};

class Scheduler {
 public:
  using TimerId = std::uint64_t;

  Scheduler() = default;
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Runs `task` on the scheduler thread, soon. After close(), the task runs
  // on a thread of its own (it is a completion that must still happen).
  void post(Task task);

  // Calls target->expire() on the scheduler thread at `deadline`, unless
  // cancel(id) came first. The target must outlive the timer: cancel it or
  // let it fire.
  TimerId arm(SteadyTime deadline, std::weak_ptr<Expirable> target);
  void cancel(TimerId id);

  // Calls close() on every armed target, then runs what was posted; later
  // posts run on a thread of their own. Joins the thread unless called from it.
  void close();

 private:
  struct Core {
    std::mutex mutex;
    std::condition_variable wake;
    std::deque<Task> tasks;
    std::multimap<SteadyTime, std::pair<TimerId, std::weak_ptr<Expirable>>> timers;
    std::map<TimerId, decltype(timers)::iterator> by_id;
    TimerId next_id = 1;
    // While the thread sleeps: when it will wake by itself (max: never);
    // min while it is awake.
    SteadyTime sleeping_until = SteadyTime::min();
    bool closing = false;
  };
  static void run(std::shared_ptr<Core> core);
  void start_locked();

  std::shared_ptr<Core> core_ = std::make_shared<Core>();
  std::thread thread_;
};

}  // namespace kvstore::detail
