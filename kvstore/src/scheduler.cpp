#include "scheduler.h"

#include <vector>

namespace kvstore::detail {

namespace {
// Runs a completion that arrives after close() without any store thread.
void run_detached(Task task) {
  std::thread([task = std::move(task)]() mutable { task(); }).detach();
}
}  // namespace

Scheduler::~Scheduler() { close(); }

void Scheduler::start_locked() {
  if (!core_->closing && !thread_.joinable()) thread_ = std::thread(&Scheduler::run, core_);
}

void Scheduler::post(Task task) {
  {
    std::lock_guard lock(core_->mutex);
    if (!core_->closing) {
      start_locked();
      core_->tasks.push_back(std::move(task));
      core_->wake.notify_one();
      return;
    }
  }
  run_detached(std::move(task));
}

Scheduler::TimerId Scheduler::arm(SteadyTime deadline, std::weak_ptr<Expirable> target) {
  std::lock_guard lock(core_->mutex);
  if (core_->closing) return 0;  // a call started while the store closes: its driver completes it
  start_locked();
  const TimerId id = core_->next_id++;
  auto it = core_->timers.emplace(deadline, std::make_pair(id, std::move(target)));
  core_->by_id.emplace(id, it);
  // Calls come with ever later deadlines and mostly complete first: the
  // thread is woken only when it would otherwise sleep past this one.
  if (deadline < core_->sleeping_until) core_->wake.notify_one();
  return id;
}

void Scheduler::cancel(TimerId id) {
  std::lock_guard lock(core_->mutex);
  auto found = core_->by_id.find(id);
  if (found == core_->by_id.end()) return;
  core_->timers.erase(found->second);
  core_->by_id.erase(found);
}

void Scheduler::run(std::shared_ptr<Core> core) {
  std::unique_lock lock(core->mutex);
  while (!core->closing) {
    if (!core->tasks.empty()) {
      Task task = std::move(core->tasks.front());
      core->tasks.pop_front();
      lock.unlock();
      task();
      lock.lock();
      continue;
    }
    if (core->timers.empty()) {
      core->sleeping_until = SteadyTime::max();
      core->wake.wait(lock);
      core->sleeping_until = SteadyTime::min();
      continue;
    }
    auto first = core->timers.begin();
    const SteadyTime next = first->first;  // a copy: cancel() may erase the node while we wait
    if (next > std::chrono::steady_clock::now()) {
      // A timer cancelled meanwhile is not worth a wake-up: the thread
      // wakes at `next` anyway and finds the next one due.
      core->sleeping_until = next;
      core->wake.wait_until(lock, next);
      core->sleeping_until = SteadyTime::min();
      continue;
    }
    std::weak_ptr<Expirable> target = std::move(first->second.second);
    core->by_id.erase(first->second.first);
    core->timers.erase(first);
    lock.unlock();
    if (auto live = target.lock()) live->expire();
    lock.lock();
  }
}

void Scheduler::close() {
  std::vector<std::weak_ptr<Expirable>> armed;
  std::deque<Task> tasks;
  {
    std::lock_guard lock(core_->mutex);
    if (core_->closing && !thread_.joinable()) return;
    core_->closing = true;
    for (auto& [deadline, timer] : core_->timers) armed.push_back(std::move(timer.second));
    core_->timers.clear();
    core_->by_id.clear();
    core_->wake.notify_all();
  }
  if (thread_.joinable()) {
    if (thread_.get_id() == std::this_thread::get_id()) {
      thread_.detach();  // the store is being destroyed by one of our own tasks
    } else {
      thread_.join();
    }
  }
  {
    std::lock_guard lock(core_->mutex);
    tasks.swap(core_->tasks);
  }
  for (auto& weak : armed) {
    if (auto live = weak.lock()) live->close();
  }
  for (Task& task : tasks) task();
}

}  // namespace kvstore::detail
