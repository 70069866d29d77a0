// WorkerPool: the threads a store runs blocking driver calls on for the
// async API (internal).
//
// Bounded twice: at most `threads` threads, started as work arrives, and at
// most `queue_limit` jobs waiting. A job may destroy the store that owns the
// pool: its thread then detaches and exits once the job returns.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "scheduler.h"

namespace kvstore::detail {

// A job is called once: to run, or to say it never will.
enum class JobTurn { run, queue_full, closed };
using Job = UniqueFunction<void(JobTurn)>;

class WorkerPool {
 public:
  WorkerPool(std::size_t threads, std::size_t queue_limit);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Queues `job`. When the queue is full or the pool closed, calls it at
  // once with JobTurn::queue_full or JobTurn::closed instead.
  void submit(Job job);

  std::size_t queue_limit() const noexcept { return queue_limit_; }

  // Calls every queued job with JobTurn::closed and joins the threads, once
  // the jobs they run return.
  void close();

 private:
  struct Core {
    std::mutex mutex;
    std::condition_variable wake;
    std::deque<Job> jobs;
    std::size_t idle = 0;
    bool closing = false;
  };
  static void run(std::shared_ptr<Core> core);

  const std::size_t max_threads_;
  const std::size_t queue_limit_;
  std::shared_ptr<Core> core_ = std::make_shared<Core>();
  std::vector<std::thread> threads_;  // guarded by core_->mutex
};

}  // namespace kvstore::detail
