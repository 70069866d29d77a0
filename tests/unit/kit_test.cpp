// The driver kit's shared machinery, without a server: the connection pool,
// the retry rule, the sweep throttle and the shared URL parameters.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>
#include <vector>

#include <kvstore/driver.h>

using namespace std::chrono_literals;
using kvstore::ConnectionPool;
using kvstore::ErrorCode;
using Clock = std::chrono::steady_clock;

namespace {
struct FakeConnection {
  int id;
};

ConnectionPool<FakeConnection>::Connect counting_connect(std::atomic<int>& made) {
  return [&made] { return std::make_unique<FakeConnection>(FakeConnection{++made}); };
}

struct Broken : std::runtime_error {
  using std::runtime_error::runtime_error;
  bool sent = true;
};

struct TimedOut : std::runtime_error {
  using std::runtime_error::runtime_error;
};

kvstore::Failure classify(const std::exception& e) {
  kvstore::Failure f;
  f.message = e.what();
  if (dynamic_cast<const TimedOut*>(&e) != nullptr) {
    f.code = ErrorCode::timeout;
    f.connection_broken = true;  // its reply may still arrive: the connection is unusable
    return f;
  }
  if (const auto* broken = dynamic_cast<const Broken*>(&e)) {
    f.code = ErrorCode::unavailable;
    f.connection_broken = true;
    f.maybe_sent = broken->sent;
    f.native_code = "08006";
  } else {
    f.code = ErrorCode::conflict;
    f.transient = true;
    f.maybe_sent = true;
    f.native_code = "40001";
  }
  return f;
}
}  // namespace

TEST_CASE("pool: reuses idle connections and waits a bounded time when full", "[kit][pool]") {
  std::atomic<int> made{0};
  ConnectionPool<FakeConnection> pool({2, 200ms, 60s}, counting_connect(made));
  {
    auto a = pool.acquire();
    auto b = pool.acquire();
    CHECK(a.fresh());
    CHECK(made == 2);
    CHECK(pool.open_count() == 2);
    const auto start = Clock::now();
    try {
      (void)pool.acquire();
      FAIL("a third connection was handed out");
    } catch (const kvstore::Error& e) {
      CHECK(e.code() == ErrorCode::timeout);
      CHECK(e.retryable());
      CHECK(std::string(e.message()).find("all 2 pooled connections") != std::string::npos);
    }
    const auto waited = Clock::now() - start;
    CHECK(waited >= 190ms);
    CHECK(waited < 2s);
  }
  CHECK(pool.idle_count() == 2);
  auto again = pool.acquire();
  CHECK_FALSE(again.fresh());
  CHECK(made == 2);
}

TEST_CASE("pool: a released lease wakes a waiter", "[kit][pool][concurrency]") {
  std::atomic<int> made{0};
  ConnectionPool<FakeConnection> pool({1, 5s, 60s}, counting_connect(made));
  auto held = std::make_unique<ConnectionPool<FakeConnection>::Lease>(pool.acquire());
  std::thread releaser([&] {
    std::this_thread::sleep_for(100ms);
    held.reset();
  });
  const auto start = Clock::now();
  auto lease = pool.acquire();
  CHECK(Clock::now() - start < 3s);
  CHECK(lease->id == 1);
  releaser.join();
}

TEST_CASE("pool: a failed connect frees its slot, and discard closes the connection",
          "[kit][pool]") {
  int attempts = 0;
  ConnectionPool<FakeConnection> pool({1, 100ms, 60s}, [&]() -> std::unique_ptr<FakeConnection> {
    if (++attempts == 1) throw std::runtime_error("refused");
    return std::make_unique<FakeConnection>(FakeConnection{attempts});
  });
  CHECK_THROWS_WITH(pool.acquire(), "refused");
  CHECK(pool.open_count() == 0);
  {
    auto lease = pool.acquire();  // the slot is free again: no wait, no timeout
    CHECK(lease->id == 2);
    lease.discard();
  }
  CHECK(pool.open_count() == 0);
  CHECK(pool.idle_count() == 0);
  auto next = pool.acquire();
  CHECK(next->id == 3);
}

TEST_CASE("pool: connections idle past idle_timeout are closed, not handed out", "[kit][pool]") {
  std::atomic<int> made{0};
  ConnectionPool<FakeConnection> pool({4, 1s, 50ms}, counting_connect(made));
  { auto lease = pool.acquire(); }
  std::this_thread::sleep_for(120ms);
  auto lease = pool.acquire();
  CHECK(lease.fresh());
  CHECK(lease->id == 2);
  CHECK(pool.open_count() == 1);
}

TEST_CASE("pool: idle age counts from the lease and by the caller clock reading", "[kit][pool]") {
  std::atomic<int> made{0};
  ConnectionPool<FakeConnection> pool({4, 1s, 50ms}, counting_connect(made));
  {
    auto held = pool.acquire();
    std::this_thread::sleep_for(120ms);  // in use past idle_timeout, then given back
  }
  // Returning it read no clock: it was leased 120ms ago, so it is closed.
  auto second = pool.acquire();
  CHECK(second.fresh());
  CHECK(second->id == 2);
  CHECK(pool.open_count() == 1);
  { auto gone = std::move(second); }

  // acquire(deadline, now) judges idleness by the caller's `now`, not its own.
  const auto now = Clock::now();
  auto reused = pool.acquire(now + 1s, now);
  CHECK_FALSE(reused.fresh());
  CHECK(reused->id == 2);
  { auto gone = std::move(reused); }
  auto later = pool.acquire(now + 1s, now + 1h);
  CHECK(later.fresh());
  CHECK(later->id == 3);

  // The timeout overload of run_with_retry leases under the same rule.
  { auto gone = std::move(later); }
  const int id = kvstore::run_with_retry(pool, classify, kvstore::Idempotence::idempotent, 1s,
                                         [](FakeConnection& c) { return c.id; });
  CHECK(id == 3);
}

TEST_CASE("pool: many threads never exceed the pool size", "[kit][pool][concurrency]") {
  std::atomic<int> made{0};
  ConnectionPool<FakeConnection> pool({3, 5s, 60s}, counting_connect(made));
  std::atomic<int> in_use{0};
  std::atomic<int> most{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        auto lease = pool.acquire();
        int now = ++in_use;
        int seen = most.load();
        while (now > seen && !most.compare_exchange_weak(seen, now)) {
        }
        --in_use;
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(most <= 3);
  CHECK(made <= 3);
}

TEST_CASE("retry: idempotent calls retry a stale broken connection once", "[kit][retry]") {
  std::atomic<int> made{0};
  ConnectionPool<FakeConnection> pool({2, 1s, 60s}, counting_connect(made));
  { auto warm = pool.acquire(); }  // an idle, used connection
  int calls = 0;
  kvstore::detail::retries_in_call = 0;
  int result = kvstore::run_with_retry(pool, classify, kvstore::Idempotence::idempotent,
                                       kvstore::deadline_after(1s), [&](FakeConnection& c) {
                                         if (++calls == 1) {
                                           CHECK(c.id == 1);
                                           throw Broken("server closed the connection");
                                         }
                                         return c.id;
                                       });
  CHECK(calls == 2);
  CHECK(result == 2);  // the broken connection was discarded, a new one made
  CHECK(kvstore::detail::retries_in_call == 1);
  CHECK(pool.open_count() == 1);
}

TEST_CASE("retry: a timeout is not retried as a stale connection", "[kit][retry]") {
  std::atomic<int> made{0};
  ConnectionPool<FakeConnection> pool({2, 1s, 60s}, counting_connect(made));
  { auto warm = pool.acquire(); }
  int calls = 0;
  try {
    kvstore::run_with_retry(pool, classify, kvstore::Idempotence::idempotent,
                            kvstore::deadline_after(5s), [&](FakeConnection&) -> int {
                              ++calls;
                              throw TimedOut("no reply within command_timeout");
                            });
    FAIL("no error");
  } catch (const kvstore::Error& e) {
    CHECK(e.code() == ErrorCode::timeout);
    CHECK(e.retryable());
  }
  CHECK(calls == 1);  // one wait of command_timeout, not two
  CHECK(pool.open_count() == 0);
}

TEST_CASE("retry: a write that may have been sent is not retried and says outcome unknown",
          "[kit][retry]") {
  std::atomic<int> made{0};
  ConnectionPool<FakeConnection> pool({2, 1s, 60s}, counting_connect(made));
  { auto warm = pool.acquire(); }
  int calls = 0;
  try {
    kvstore::run_with_retry(pool, classify, kvstore::Idempotence::not_idempotent,
                            kvstore::deadline_after(1s), [&](FakeConnection&) -> bool {
                              ++calls;
                              throw Broken("connection reset");
                            });
    FAIL("no error");
  } catch (const kvstore::Error& e) {
    CHECK(e.code() == ErrorCode::unavailable);
    CHECK(e.outcome_unknown());
    CHECK(e.native_code() == "08006");
    CHECK(e.message() == "connection reset");
  }
  CHECK(calls == 1);

  // Not sent at all (failed before writing): safe to retry even a cas.
  calls = 0;
  { auto warm = pool.acquire(); }
  bool swapped = kvstore::run_with_retry(pool, classify, kvstore::Idempotence::not_idempotent,
                                         kvstore::deadline_after(1s), [&](FakeConnection&) {
                                           if (++calls == 1) {
                                             Broken b("broken before sending");
                                             b.sent = false;
                                             throw b;
                                           }
                                           return true;
                                         });
  CHECK(swapped);
  CHECK(calls == 2);
}

TEST_CASE("retry: a plain write may be repeated, and a lost reply says outcome unknown",
          "[kit][retry]") {
  std::atomic<int> made{0};
  ConnectionPool<FakeConnection> pool({2, 1s, 60s}, counting_connect(made));
  // A timeout after sending: not repeated, and the write may have landed
  // (a stopped server applies it when it resumes).
  try {
    kvstore::run_with_retry(
        pool, classify, kvstore::Idempotence::idempotent_write, kvstore::deadline_after(5s),
        [&](FakeConnection&) -> int { throw TimedOut("no reply within command_timeout"); });
    FAIL("no error");
  } catch (const kvstore::Error& e) {
    CHECK(e.code() == ErrorCode::timeout);
    CHECK(e.outcome_unknown());
  }
  // A read that timed out has no outcome.
  try {
    kvstore::run_with_retry(
        pool, classify, kvstore::Idempotence::idempotent, kvstore::deadline_after(5s),
        [&](FakeConnection&) -> int { throw TimedOut("no reply within command_timeout"); });
    FAIL("no error");
  } catch (const kvstore::Error& e) {
    CHECK_FALSE(e.outcome_unknown());
  }
  // A stale connection broke after sending: repeated on a fresh one (a set
  // is idempotent), and when that fails too before sending, the first
  // attempt may still have landed.
  { auto warm = pool.acquire(); }
  int calls = 0;
  try {
    kvstore::run_with_retry(pool, classify, kvstore::Idempotence::idempotent_write,
                            kvstore::deadline_after(5s), [&](FakeConnection&) -> int {
                              Broken b("connection reset");
                              b.sent = ++calls == 1;
                              throw b;
                            });
    FAIL("no error");
  } catch (const kvstore::Error& e) {
    CHECK(e.code() == ErrorCode::unavailable);
    CHECK(e.outcome_unknown());
  }
  CHECK(calls == 2);
  // ... and so when the driver ends the retry with an Error of its own.
  { auto warm = pool.acquire(); }
  calls = 0;
  try {
    kvstore::run_with_retry(pool, classify, kvstore::Idempotence::idempotent_write,
                            kvstore::deadline_after(5s), [&](FakeConnection&) -> int {
                              if (++calls == 1) throw Broken("connection reset");
                              throw kvstore::Error(ErrorCode::timeout, "deadline", "fake", true);
                            });
    FAIL("no error");
  } catch (const kvstore::Error& e) {
    CHECK(e.code() == ErrorCode::timeout);
    CHECK(e.driver() == "fake");
    CHECK(e.outcome_unknown());
  }
  // ... and when the retry cannot even connect (the pool's Connect throws).
  {
    int connects = 0;
    ConnectionPool<FakeConnection> refusing({2, 1s, 60s}, [&] {
      if (++connects > 1) throw kvstore::Error(ErrorCode::unavailable, "refused", "fake", true);
      return std::make_unique<FakeConnection>(FakeConnection{connects});
    });
    { auto warm = refusing.acquire(); }
    try {
      kvstore::run_with_retry(refusing, classify, kvstore::Idempotence::idempotent_write,
                              kvstore::deadline_after(5s),
                              [&](FakeConnection&) -> int { throw Broken("connection reset"); });
      FAIL("no error");
    } catch (const kvstore::Error& e) {
      CHECK(e.message() == "refused");
      CHECK(e.outcome_unknown());
    }
    CHECK(connects == 2);
  }
  // Never sent: a definite failure.
  try {
    kvstore::run_with_retry(pool, classify, kvstore::Idempotence::idempotent_write,
                            kvstore::deadline_after(5s), [&](FakeConnection&) -> int {
                              Broken b("refused");
                              b.sent = false;
                              throw b;
                            });
    FAIL("no error");
  } catch (const kvstore::Error& e) {
    CHECK_FALSE(e.outcome_unknown());
  }
}

TEST_CASE("retry: transient errors retry up to max_attempts, and Errors pass through",
          "[kit][retry]") {
  std::atomic<int> made{0};
  ConnectionPool<FakeConnection> pool({1, 1s, 60s}, counting_connect(made));
  int calls = 0;
  try {
    kvstore::run_with_retry(
        pool, classify, kvstore::Idempotence::idempotent, kvstore::deadline_after(5s),
        [&](FakeConnection&) -> int {
          ++calls;
          throw std::runtime_error("deadlock");
        },
        kvstore::RetryPolicy{3, 1ms});
    FAIL("no error");
  } catch (const kvstore::Error& e) {
    CHECK(e.code() == ErrorCode::conflict);
    CHECK(e.retryable());
    CHECK_FALSE(e.outcome_unknown());
    CHECK(e.native_code() == "40001");
  }
  CHECK(calls == 3);
  CHECK(made == 1);  // not broken: the connection was kept

  calls = 0;
  CHECK_THROWS_AS(kvstore::run_with_retry(pool, classify, kvstore::Idempotence::idempotent,
                                          kvstore::deadline_after(5s),
                                          [&](FakeConnection&) -> int {
                                            ++calls;
                                            throw kvstore::Error(ErrorCode::corrupt, "bad row");
                                          }),
                  kvstore::Error);
  CHECK(calls == 1);
}

TEST_CASE("sweep throttle: one sweeper per interval, again at once while a backlog remains",
          "[kit][sweep]") {
  kvstore::SweepThrottle throttle(100ms);
  int sweeps = 0;
  auto sweep = [&](bool backlog) {
    return [&, backlog] {
      ++sweeps;
      return backlog;
    };
  };
  throttle.run_if_due(sweep(true));
  CHECK(sweeps == 1);
  throttle.run_if_due(sweep(false));  // backlog: due again at once
  CHECK(sweeps == 2);
  throttle.run_if_due(sweep(false));  // within the interval: skipped
  CHECK(sweeps == 2);
  std::this_thread::sleep_for(150ms);
  CHECK(throttle.try_begin());
  CHECK_FALSE(throttle.try_begin());  // another thread is sweeping
  throttle.finish(false);
  kvstore::SweepThrottle off(0ms);
  CHECK_FALSE(off.try_begin());
}

TEST_CASE("shared parameters: one name, range and default for every driver", "[kit][url]") {
  kvstore::Url defaults = kvstore::Url::parse("x:");
  kvstore::ConnectionOptions c = kvstore::take_connection_options(defaults);
  kvstore::SweepOptions s = kvstore::take_sweep_options(defaults);
  CHECK(c.pool_size == 8);
  CHECK(c.pool_timeout == 5s);
  CHECK(c.connect_timeout == 5s);
  CHECK(c.command_timeout == 10s);
  CHECK(s.sweep_interval == 1s);
  CHECK(s.sweep_batch == 500);

  kvstore::Url url = kvstore::Url::parse(
      "x:?pool_size=3&pool_timeout=250ms&connect_timeout=2s&command_timeout=1m&sweep_interval=0"
      "&sweep_batch=7");
  c = kvstore::take_connection_options(url);
  s = kvstore::take_sweep_options(url);
  CHECK(c.pool_size == 3);
  CHECK(c.pool().wait_timeout == 250ms);
  CHECK(c.connect_timeout == 2s);
  CHECK(c.command_timeout == 60s);
  CHECK(s.sweep_interval == 0ms);
  CHECK(s.sweep_batch == 7);
  url.reject_unknown_params("x");

  for (const char* bad : {"pool_size=0", "pool_size=1025", "pool_timeout=0", "connect_timeout=2h",
                          "command_timeout=99999999999h", "sweep_interval=61m", "sweep_batch=0",
                          "sweep_batch=100001", "pool_timeout=5"}) {
    INFO(bad);
    kvstore::Url u = kvstore::Url::parse(std::string("x:?") + bad);
    try {
      (void)kvstore::take_connection_options(u);
      (void)kvstore::take_sweep_options(u);
      FAIL("accepted");
    } catch (const kvstore::Error& e) {
      CHECK(e.code() == ErrorCode::invalid_argument);
    }
  }
}

TEST_CASE("deadline arithmetic saturates instead of overflowing", "[kit]") {
  using SysClock = std::chrono::system_clock;
  const auto far = kvstore::saturating_add(Clock::now(), std::chrono::milliseconds::max());
  CHECK(far == Clock::time_point::max());
  CHECK(kvstore::saturating_add(SysClock::now(), std::chrono::hours::max()) ==
        SysClock::time_point::max());
  CHECK(kvstore::saturating_add(Clock::time_point::min() + 1s, -std::chrono::hours(1)) ==
        Clock::time_point::min());
  const auto now = Clock::now();
  CHECK(kvstore::saturating_add(now, 5ms) == now + 5ms);
  CHECK(kvstore::deadline_after(std::chrono::milliseconds::max()) == Clock::time_point::max());
}

TEST_CASE("shared parameters: typed options are checked against the same ranges", "[kit][url]") {
  kvstore::ConnectionOptions c;
  kvstore::SweepOptions s;
  kvstore::validate("x", c);  // the defaults are in range
  kvstore::validate("x", s);
  c.pool_size = 0;
  try {
    kvstore::validate("mine", c);
    FAIL("pool_size=0 accepted");
  } catch (const kvstore::Error& e) {
    CHECK(e.code() == ErrorCode::invalid_argument);
    CHECK(e.driver() == "mine");
    CHECK(e.message() == "pool_size must be from 1 to 1024 (got 0)");
  }
  c.pool_size = 8;
  c.command_timeout = std::chrono::hours(2);
  CHECK_THROWS_AS(kvstore::validate("mine", c), kvstore::Error);
  s.sweep_batch = kvstore::kMaxSweepBatch + 1;
  CHECK_THROWS_AS(kvstore::validate("mine", s), kvstore::Error);
  CHECK(kvstore::naming_errors("mine", [] { return 7; }) == 7);
  try {
    kvstore::naming_errors("mine", [] { kvstore::Url::parse("x:?a=1&a=2"); });
    FAIL("accepted");
  } catch (const kvstore::Error& e) {
    CHECK(e.driver() == "mine");
  }
}
