// PendingCall: one asynchronous call between its start and its completion
// (internal).
//
// Whoever completes it first wins: the driver's result, the deadline, a
// cancellation, or the store closing. The user's callback then runs once,
// on the winner's thread, except that a result arriving inside the
// initiating call is deferred to the scheduler thread.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <thread>

#include <kvstore/callback.h>
#include <kvstore/error.h>
#include <kvstore/observer.h>

#include "scheduler.h"

namespace kvstore::detail {

// What a pending call needs to know about where it came from.
struct CallSite {
  Operation operation;
  bool is_write;
  std::string driver;
  std::chrono::milliseconds timeout;
  Scheduler* scheduler;
  std::shared_ptr<Observer> observer;
};

class PendingCall : public Expirable, public std::enable_shared_from_this<PendingCall> {
 public:
  explicit PendingCall(CallSite site) : site_(std::move(site)) {
    if (site_.observer) started_ = std::chrono::steady_clock::now();
  }

  void mark_sent() noexcept { sent_.store(true, std::memory_order_relaxed); }
  bool completed() const noexcept { return claimed_.load(std::memory_order_acquire); }
  // Stop is requested when the call completes in any way but the driver's result.
  std::stop_token internal_stop() const noexcept { return internal_stop_.get_token(); }
  const CallSite& site() const noexcept { return site_; }

  // Arms the deadline and follows the caller's stop token.
  void watch(std::chrono::steady_clock::time_point deadline, const std::stop_token& user_stop);
  // The caller's stop token fired: completes with Error(cancelled) on the scheduler thread.
  void cancel_later();

  // Between these, a completion on this thread is deferred (see above).
  void begin_initiation() { initiator_.store(std::this_thread::get_id()); }
  void end_initiation() { initiator_.store(std::thread::id()); }

 protected:
  bool in_initiation() const { return initiator_.load() == std::this_thread::get_id(); }
  // True once: the caller of the winning completion.
  bool claim();
  // After a winning claim: stops timers and the stop callback.
  void settle();
  void report(const std::optional<ErrorCode>& error);
  Error stopped_error(ErrorCode code, std::string what, bool retryable) const;

  virtual void finish_with(Error error) = 0;

 public:
  void expire() override;
  void close() override;

 private:
  CallSite site_;
  std::chrono::steady_clock::time_point started_{};
  std::atomic<bool> claimed_{false};
  std::atomic<bool> sent_{false};
  std::atomic<std::thread::id> initiator_{};
  std::stop_source internal_stop_;
  Scheduler::TimerId timer_ = 0;
  struct StopForwarder {
    std::weak_ptr<PendingCall> call;
    void operator()() const noexcept;
  };
  std::optional<std::stop_callback<StopForwarder>> user_stop_;
};

template <class T>
class Pending final : public PendingCall {
 public:
  Pending(CallSite site, Callback<T> done) : PendingCall(std::move(site)), done_(std::move(done)) {}

  // The driver's (or the core's) result.
  void complete(Result<T> result) {
    if (in_initiation()) {
      auto self = std::static_pointer_cast<Pending>(shared_from_this());
      site().scheduler->post(
          [self, result = std::move(result)]() mutable { self->complete(std::move(result)); });
      return;
    }
    if (!claim()) return;
    settle();
    if (!result.has_value()) {
      if (result.error().driver().empty())
        result = Result<T>(result.error().with_driver(site().driver));
      report(result.error().code());
    } else {
      report(std::nullopt);
    }
    run(std::move(result));
  }

 private:
  void finish_with(Error error) override {
    report(error.code());
    run(Result<T>(std::move(error)));
  }
  void run(Result<T> result) {
    Callback<T> done = std::move(done_);
    done(std::move(result));
  }

  Callback<T> done_;
};

// Completes `pending` from a driver callback, for Result types that convert.
template <class T>
Callback<T> completing(std::shared_ptr<Pending<T>> pending) {
  return [pending = std::move(pending)](Result<T> result) mutable {
    pending->complete(std::move(result));
  };
}

}  // namespace kvstore::detail
