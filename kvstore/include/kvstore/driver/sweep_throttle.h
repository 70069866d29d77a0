// SweepThrottle: when a driver's writes may also remove expired rows.
//
// Expired rows are invisible at once, but the SQL drivers remove them
// physically in bounded batches piggy-backed on writes. The throttle lets at
// most one thread at a time sweep, at most once per `interval`, and at once
// again while a backlog remains (the previous batch was full). An interval of
// zero turns sweeping off.
//
// Thread safety: all members may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <limits>

namespace kvstore {

class SweepThrottle {
 public:
  using Clock = std::chrono::steady_clock;

  explicit SweepThrottle(std::chrono::milliseconds interval) : interval_(interval) {}

  // True if the caller should sweep now; it must then call finish(). Cheap
  // when no sweep is due: one atomic load.
  bool try_begin() {
    if (interval_.count() <= 0) return false;
    const std::int64_t now = Clock::now().time_since_epoch().count();
    std::int64_t due = next_due_.load(std::memory_order_relaxed);
    if (now < due) return false;
    // Claim the sweep by pushing the due time far ahead; finish() sets it.
    return next_due_.compare_exchange_strong(due, kSweeping, std::memory_order_acq_rel);
  }

  // Ends a sweep. `backlog`: the batch was full, so more expired rows wait.
  void finish(bool backlog) {
    const Clock::time_point now = Clock::now();
    const Clock::time_point next = backlog ? now : now + interval_;
    next_due_.store(next.time_since_epoch().count(), std::memory_order_release);
  }

  // Runs `sweep` if a sweep is due. `sweep` removes one bounded batch and
  // returns true if the batch was full. An exception from it ends the sweep
  // and propagates.
  template <class Sweep>
  void run_if_due(Sweep&& sweep) {
    if (!try_begin()) return;
    bool backlog = false;
    try {
      backlog = sweep();
    } catch (...) {
      finish(false);
      throw;
    }
    finish(backlog);
  }

  std::chrono::milliseconds interval() const noexcept { return interval_; }

 private:
  static constexpr std::int64_t kSweeping = std::numeric_limits<std::int64_t>::max();
  const std::chrono::milliseconds interval_;
  std::atomic<std::int64_t> next_due_{0};
};

}  // namespace kvstore
