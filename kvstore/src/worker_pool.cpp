#include "worker_pool.h"

namespace kvstore::detail {

WorkerPool::WorkerPool(std::size_t threads, std::size_t queue_limit)
    : max_threads_(threads == 0 ? 1 : threads), queue_limit_(queue_limit == 0 ? 1 : queue_limit) {}

WorkerPool::~WorkerPool() { close(); }

void WorkerPool::submit(Job job) {
  JobTurn refusal;
  {
    std::lock_guard lock(core_->mutex);
    if (!core_->closing && core_->jobs.size() < queue_limit_) {
      core_->jobs.push_back(std::move(job));
      if (core_->idle > 0) {
        core_->wake.notify_one();
      } else if (threads_.size() < max_threads_) {
        threads_.emplace_back(&WorkerPool::run, core_);
      }
      return;
    }
    refusal = core_->closing ? JobTurn::closed : JobTurn::queue_full;
  }
  job(refusal);
}

void WorkerPool::run(std::shared_ptr<Core> core) {
  std::unique_lock lock(core->mutex);
  for (;;) {
    if (core->closing) return;
    if (core->jobs.empty()) {
      ++core->idle;
      core->wake.wait(lock);
      --core->idle;
      continue;
    }
    Job job = std::move(core->jobs.front());
    core->jobs.pop_front();
    lock.unlock();
    job(JobTurn::run);
    job = nullptr;  // what the job captured goes before the lock is taken again
    lock.lock();
  }
}

void WorkerPool::close() {
  std::deque<Job> dropped;
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(core_->mutex);
    core_->closing = true;
    dropped.swap(core_->jobs);
    threads.swap(threads_);
    core_->wake.notify_all();
  }
  for (Job& job : dropped) job(JobTurn::closed);
  dropped.clear();
  for (std::thread& t : threads) {
    if (t.get_id() == std::this_thread::get_id()) {
      t.detach();  // the store is being destroyed by one of our own jobs
    } else {
      t.join();
    }
  }
}

}  // namespace kvstore::detail
