// The retry runner: one rule, for every driver, for when a failed backend
// call is repeated, when its connection is thrown away, and what Error the
// caller finally sees.
//
// A driver supplies an ErrorClassifier that turns its client library's
// exceptions into a Failure (what kind of error, whether the connection is
// broken, whether the request may have reached the server, whether a retry
// may succeed, the native code). run_with_retry() then:
//   - discards the connection when it is broken;
//   - retries, on another connection and within the deadline, a failure that
//     is transient, at most `max_attempts` times in all, but a request that
//     is not idempotent only if it certainly never reached the server;
//   - otherwise throws Error(code, message, "", retryable, native_code,
//     outcome_unknown): outcome_unknown is set for a write (a cas, or a set
//     or remove by any of its attempts) that may have been applied.
// A kvstore::Error thrown by the body is passed through unchanged: a driver
// raises it for failures it has classified itself. So is whatever the pool's
// Connect function throws (a failed connect is not classified: the connect
// function raises the Error it means, e.g. with to_error()). A timeout is
// never retried as a stale connection.
#pragma once

#include <algorithm>
#include <chrono>
#include <exception>
#include <functional>
#include <string>
#include <thread>
#include <utility>

#include <kvstore/deadline.h>
#include <kvstore/driver/connection_pool.h>
#include <kvstore/error.h>

namespace kvstore {

struct Failure {
  ErrorCode code = ErrorCode::internal;
  std::string message;
  std::string native_code;         // SQLSTATE, errno, Redis error prefix
  bool connection_broken = false;  // discard the connection it happened on
  bool maybe_sent = true;          // the request may have reached the server
  bool transient = false;          // the same request may succeed if repeated
};

// Classifies the exception being handled (called inside a catch block, so
// it may rethrow with `throw;` to inspect the exception's type).
using ErrorClassifier = std::function<Failure(const std::exception& e)>;

// Whether repeating a request can change its result, and whether a lost
// reply leaves an outcome to report: reads are idempotent; plain writes and
// removes may be repeated too, but one whose reply was lost may or may not
// have been applied (outcome_unknown); a compare-and-swap is not idempotent.
enum class Idempotence { idempotent, idempotent_write, not_idempotent };

struct RetryPolicy {
  int max_attempts = 2;                  // first try plus retries
  std::chrono::milliseconds backoff{5};  // before a retry that is not a reconnect
};

namespace detail {
// Counts retries of the call in progress on this thread, for the observer.
inline thread_local int retries_in_call = 0;
}  // namespace detail

// The Error a classified failure becomes when it is not retried.
// `earlier_reply_lost`: an earlier attempt of the same write lost its reply
// (it may have been applied, whatever this last failure says).
inline Error to_error(Failure failure, Idempotence idempotence, bool earlier_reply_lost = false) {
  const bool reply_lost = failure.maybe_sent && failure.connection_broken;
  const bool unknown = idempotence != Idempotence::idempotent && (reply_lost || earlier_reply_lost);
  const bool retryable = failure.transient || is_retryable_by_default(failure.code);
  return Error(failure.code, std::move(failure.message), {}, retryable,
               std::move(failure.native_code), unknown);
}

namespace detail {
// The lease for a retry of a write whose earlier attempt lost its reply: a
// failure to get one (the pool's wait, a refused connect) must still say
// that the write may have landed.
template <class Acquire>
auto acquire_after_lost_reply(Acquire&& acquire) -> decltype(acquire()) {
  try {
    return acquire();
  } catch (const Error& e) {
    if (e.outcome_unknown()) throw;
    throw Error(e.code(), e.message(), e.driver(), e.retryable(), e.native_code(), true);
  }
}

template <class Connection, class Body>
auto run_with_retry_from(ConnectionPool<Connection>& pool, const ErrorClassifier& classify,
                         Idempotence idempotence, std::chrono::steady_clock::time_point now,
                         std::chrono::steady_clock::time_point deadline, Body&& body,
                         const RetryPolicy& policy) -> decltype(body(std::declval<Connection&>())) {
  bool reply_lost = false;  // by an earlier attempt
  for (int attempt = 1;; ++attempt) {
    std::chrono::milliseconds pause{0};
    {
      // The first lease reuses the caller's clock reading; a retry reads anew.
      auto acquire = [&] {
        return attempt == 1 ? pool.acquire(deadline, now) : pool.acquire(deadline);
      };
      auto lease = reply_lost && idempotence != Idempotence::idempotent
                       ? acquire_after_lost_reply(acquire)
                       : acquire();
      try {
        return body(*lease);
      } catch (const Error& e) {
        // A driver's own Error (e.g. its deadline for a retry) after an
        // attempt of the same write lost its reply: that write may still land.
        if (reply_lost && idempotence != Idempotence::idempotent && !e.outcome_unknown()) {
          throw Error(e.code(), e.message(), e.driver(), e.retryable(), e.native_code(), true);
        }
        throw;
      } catch (const std::exception& e) {
        Failure failure = classify(e);
        if (failure.connection_broken) lease.discard();
        const bool may_repeat = idempotence != Idempotence::not_idempotent || !failure.maybe_sent;
        // A broken connection that had been used before is most likely one the
        // server closed while it sat idle: a fresh one deserves one more try.
        // Not after a timeout: the server is slow, not gone, and a second
        // wait would double the caller's.
        const bool stale =
            failure.connection_broken && failure.code != ErrorCode::timeout && !lease.fresh();
        const bool worth_it = failure.transient || stale;
        if (!may_repeat || !worth_it || attempt >= policy.max_attempts ||
            std::chrono::steady_clock::now() >= deadline) {
          throw to_error(std::move(failure), idempotence, reply_lost);
        }
        reply_lost = reply_lost || (failure.maybe_sent && failure.connection_broken);
        ++retries_in_call;
        if (!failure.connection_broken) pause = policy.backoff * attempt;
      }
    }  // the lease goes back before any pause
    if (pause.count() > 0) {
      std::this_thread::sleep_until(std::min(deadline, std::chrono::steady_clock::now() + pause));
    }
  }
}
}  // namespace detail

// Runs body(connection) on a connection leased from `pool` until it succeeds
// or the rule above says stop. `deadline` bounds the waits for connections
// and the retries (a body enforces it on its own I/O).
template <class Connection, class Body>
auto run_with_retry(ConnectionPool<Connection>& pool, const ErrorClassifier& classify,
                    Idempotence idempotence, std::chrono::steady_clock::time_point deadline,
                    Body&& body, const RetryPolicy& policy = {})
    -> decltype(body(std::declval<Connection&>())) {
  return detail::run_with_retry_from(pool, classify, idempotence, std::chrono::steady_clock::now(),
                                     deadline, std::forward<Body>(body), policy);
}

// The same with the deadline `timeout` from now: the clock is read once for
// both the deadline and the pool's idle check (the common case, and the
// cheapest: a pooled call then reads the clock once).
template <class Connection, class Body>
auto run_with_retry(ConnectionPool<Connection>& pool, const ErrorClassifier& classify,
                    Idempotence idempotence, std::chrono::milliseconds timeout, Body&& body,
                    const RetryPolicy& policy = {}) -> decltype(body(std::declval<Connection&>())) {
  const auto now = std::chrono::steady_clock::now();
  return detail::run_with_retry_from(pool, classify, idempotence, now, saturating_add(now, timeout),
                                     std::forward<Body>(body), policy);
}

}  // namespace kvstore
