// ConnectionPool: the connection pool every server driver uses.
//
// A pool holds at most `size` connections of a driver's own type. acquire()
// hands one out as a Lease (RAII: the connection goes back when the lease is
// destroyed) and waits at most until a deadline for one to become free.
// A new connection is made outside the pool's lock, in a reserved slot that
// is released again if connecting throws, so one slow connect never holds up
// threads that could use an idle connection. A connection last handed out
// longer than `idle_timeout` ago is closed instead of being handed out again
// (measured from when it was leased, not returned, so giving a connection
// back reads no clock; this errs on the side of closing).
//
// Thread safety: all members may be called from any thread. A Lease is used
// by one thread at a time and must not outlive its pool.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <kvstore/deadline.h>
#include <kvstore/error.h>
#include <kvstore/url.h>

namespace kvstore {

struct PoolOptions {
  std::size_t size = 8;                                   // 1..1024 (URL: pool_size)
  std::chrono::milliseconds wait_timeout{5000};           // URL: pool_timeout
  std::chrono::milliseconds idle_timeout{5 * 60 * 1000};  // close connections unused this long
};

template <class Connection>
class ConnectionPool {
 public:
  using Clock = std::chrono::steady_clock;
  // Makes a new connection or throws (kvstore::Error or the driver's own
  // exception, which reaches the caller of acquire()).
  using Connect = std::function<std::unique_ptr<Connection>()>;

  class Lease {
   public:
    Lease(Lease&& other) noexcept
        : pool_(std::exchange(other.pool_, nullptr)),
          connection_(std::move(other.connection_)),
          leased_at_(other.leased_at_),
          fresh_(other.fresh_) {}
    Lease& operator=(Lease&&) = delete;
    Lease(const Lease&) = delete;
    ~Lease() {
      if (pool_ != nullptr) pool_->give_back(std::move(connection_), leased_at_);
    }

    Connection& operator*() const noexcept { return *connection_; }
    Connection* operator->() const noexcept { return connection_.get(); }
    // True if the connection was made for this lease (it has not been used
    // before, so a failure on it is not a stale connection's).
    bool fresh() const noexcept { return fresh_; }
    // The connection is broken or in an unknown state: close it instead of
    // returning it, freeing its slot for a new one.
    void discard() noexcept { connection_.reset(); }

   private:
    friend class ConnectionPool;
    Lease(ConnectionPool* pool, std::unique_ptr<Connection> connection, Clock::time_point leased_at,
          bool fresh)
        : pool_(pool), connection_(std::move(connection)), leased_at_(leased_at), fresh_(fresh) {}
    ConnectionPool* pool_;
    std::unique_ptr<Connection> connection_;
    Clock::time_point leased_at_;
    bool fresh_;
  };

  ConnectionPool(PoolOptions options, Connect connect)
      : options_(options), connect_(std::move(connect)) {}
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;
  // Every lease must have been returned.
  ~ConnectionPool() = default;

  // A connection, waiting for one until `deadline` at most; throws
  // Error(timeout) naming the pool size if none became free in time.
  Lease acquire(Clock::time_point deadline) { return acquire(deadline, Clock::now()); }
  // The same, with `now` the caller's own recent reading of Clock (the one
  // its deadline came from), so that a pooled call reads the clock once.
  Lease acquire(Clock::time_point deadline, Clock::time_point now) {
    std::vector<std::unique_ptr<Connection>> stale;  // closed after unlocking
    std::unique_lock lock(mutex_);
    for (bool first = true;; first = false) {
      if (!first) now = Clock::now();  // after a wait
      while (!idle_.empty()) {
        Idle item = std::move(idle_.back());
        idle_.pop_back();
        if (now - item.since < options_.idle_timeout) {
          lock.unlock();
          stale.clear();
          return Lease(this, std::move(item.connection), now, false);
        }
        --open_;
        stale.push_back(std::move(item.connection));
      }
      if (open_ < options_.size) {
        ++open_;  // reserve the slot, then connect without the lock
        lock.unlock();
        stale.clear();
        try {
          std::unique_ptr<Connection> connection = connect_();
          return Lease(this, std::move(connection), now, true);
        } catch (...) {
          release_slot();
          throw;
        }
      }
      if (!stale.empty()) {
        lock.unlock();
        stale.clear();
        lock.lock();
        continue;
      }
      ++waiters_;
      const std::cv_status status = available_.wait_until(lock, deadline);
      --waiters_;
      if (status == std::cv_status::timeout && idle_.empty() && open_ >= options_.size) {
        throw Error(ErrorCode::timeout, "all " + std::to_string(options_.size) +
                                            " pooled connections stayed busy for pool_timeout (" +
                                            format_duration(options_.wait_timeout) + ")");
      }
    }
  }
  Lease acquire() { return acquire(deadline_after(options_.wait_timeout)); }

  // Closes every idle connection (for example after the server restarted).
  void clear_idle() {
    std::vector<Idle> closing;
    {
      std::lock_guard lock(mutex_);
      closing.swap(idle_);
      open_ -= closing.size();
    }
    available_.notify_all();
  }

  const PoolOptions& options() const noexcept { return options_; }
  // Connections open now (idle plus leased); for tests and statistics.
  std::size_t open_count() const {
    std::lock_guard lock(mutex_);
    return open_;
  }
  std::size_t idle_count() const {
    std::lock_guard lock(mutex_);
    return idle_.size();
  }

 private:
  struct Idle {
    std::unique_ptr<Connection> connection;
    Clock::time_point since;  // when it was last leased
  };

  void give_back(std::unique_ptr<Connection> connection, Clock::time_point leased_at) {
    if (!connection) {
      release_slot();
      return;
    }
    bool wake = false;
    {
      std::lock_guard lock(mutex_);
      idle_.push_back({std::move(connection), leased_at});
      wake = waiters_ > 0;
    }
    // Nobody waits on an uncontended pool: skip the notify's futex work.
    if (wake) available_.notify_one();
  }

  void release_slot() {
    bool wake = false;
    {
      std::lock_guard lock(mutex_);
      --open_;
      wake = waiters_ > 0;
    }
    if (wake) available_.notify_one();
  }

  const PoolOptions options_;
  const Connect connect_;
  mutable std::mutex mutex_;
  std::condition_variable available_;
  std::vector<Idle> idle_;   // most recently used last
  std::size_t open_ = 0;     // idle plus leased plus being connected
  std::size_t waiters_ = 0;  // threads in acquire() waiting for a connection
};

}  // namespace kvstore
