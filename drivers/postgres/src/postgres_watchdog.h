// Watchdog: ends PostgreSQL statements that overrun their deadline.
//
// libpq waits for a reply in poll() without a timeout, statement_timeout
// needs a server that runs, and TCP keepalives or TCP_USER_TIMEOUT never fire
// against a stopped process whose kernel still acknowledges. shutdown() (not
// close(): the descriptor is still libpq's) makes libpq's wait return at once
// with a broken connection, which the caller then drops.
#pragma once

#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace kvstore::postgres::detail {

class Watchdog {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  struct Watch {
    int fd;
    TimePoint deadline;
    bool fired = false;  // written under the watchdog's lock; read after disarm()
  };

  Watchdog() : thread_([this] { loop(); }) {}
  ~Watchdog() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    cv_.notify_one();
    thread_.join();
  }
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

  void arm(Watch& w) {
    bool sooner;
    {
      std::lock_guard lock(mutex_);
      watches_.push_back(&w);
      sooner = w.deadline < wake_at_;
    }
    if (sooner) cv_.notify_one();  // rare: deadlines mostly come in order
  }

  // Once this returns the watchdog no longer touches `w` or its socket, so
  // the connection may be closed (and its descriptor number reused).
  void disarm(Watch& w) {
    std::lock_guard lock(mutex_);
    watches_.erase(std::find(watches_.begin(), watches_.end(), &w));
  }

 private:
  void loop() {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
      const TimePoint now = std::chrono::steady_clock::now();
      wake_at_ = TimePoint::max();
      for (Watch* w : watches_) {
        if (w->fired) continue;
        if (w->deadline <= now) {
          ::shutdown(w->fd, SHUT_RDWR);
          w->fired = true;
        } else {
          wake_at_ = std::min(wake_at_, w->deadline);
        }
      }
      if (wake_at_ == TimePoint::max()) {
        cv_.wait(lock);
      } else {
        cv_.wait_until(lock, wake_at_);
      }
    }
  }

  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<Watch*> watches_;
  TimePoint wake_at_ = TimePoint::max();
  bool stopping_ = false;
  std::thread thread_;  // last: it starts in the constructor and reads the members above
};

// Arms a watch for its lifetime.
class Watched {
 public:
  Watched(Watchdog& dog, Watchdog::Watch& w) : dog_(dog), w_(w) { dog_.arm(w_); }
  ~Watched() { dog_.disarm(w_); }
  Watched(const Watched&) = delete;
  Watched& operator=(const Watched&) = delete;

 private:
  Watchdog& dog_;
  Watchdog::Watch& w_;
};

}  // namespace kvstore::postgres::detail
