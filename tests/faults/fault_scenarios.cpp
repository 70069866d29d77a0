// Fault scenarios (issue 15): a get/set/cas mix from 8 blocking threads and
// 64 async calls in flight (the callback core) while the server restarts, is
// killed, stalls, or the network blackholes or resets. Every call must end
// within its deadline with success or a retryable timeout/unavailable, the
// same store must work again once the server is back, and a write reported
// as failed (without outcome_unknown) must never show up later.
//
// They restart the shared test servers through KVSTORE_TEST_SERVICES, so
// they run alone (RUN_SERIAL). Each prints one "FAULTS ..." line per API
// with the measurements docs/reliability.md quotes.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <kvstore/kvstore.h>
#include <catch2/catch.hpp>

#include "fault_proxy.h"
#include "test_services.h"

using namespace std::chrono_literals;
using kvstore::ErrorCode;
using kvstore::KvKey;
using kvstore::Value;
using Clock = std::chrono::steady_clock;

namespace {

// The store's timeouts (URL) and the slack a call may take beyond them on a
// loaded 2-core machine under ASan (scheduling, sanitizer overhead).
constexpr auto kConnectTimeout = 500ms;
constexpr auto kCommandTimeout = 1s;
constexpr auto kPoolTimeout = 1s;
constexpr auto kRequestTimeout = 3s;
constexpr auto kSlack = 1500ms;
// A blocking call waits for a connection, connects and runs one command.
constexpr auto kSyncBound = kPoolTimeout + kConnectTimeout + kCommandTimeout + kSlack;
// An async call has its own deadline (request_timeout) whatever it waits for.
constexpr auto kAsyncBound = kRequestTimeout + kSlack;
// The store must answer again this soon after the fault ends.
constexpr auto kRecoveryBound = 10s;
constexpr int kSyncThreads = 8;
constexpr int kAsyncInFlight = 64;
constexpr int kSharedKeys = 4;

enum class Fault { restart, kill, stall, blackhole, reset, down_at_open };

const char* fault_name(Fault f) {
  switch (f) {
    case Fault::restart:
      return "restart";
    case Fault::kill:
      return "sigkill";
    case Fault::stall:
      return "sigstop";
    case Fault::blackhole:
      return "blackhole";
    case Fault::reset:
      return "reset";
    case Fault::down_at_open:
      return "down-at-open";
  }
  return "?";
}

struct Driver {
  std::string name;     // label and report name
  std::string service;  // test-services.sh name
  std::string env;      // URL variable
  std::string ns_param;
  bool durable;  // acknowledged writes survive a restart or a crash
};

std::string base_url(const Driver& d) {
  const char* url = std::getenv(d.env.c_str());
  if (url == nullptr || *url == '\0') FAIL(d.env << " is not set");
  return url;
}

std::string unique_name() {
  static std::atomic<int> counter{0};
  static const unsigned run = std::random_device{}() % 100000;
  return "kvfault_" + std::to_string(::getpid()) + "_" + std::to_string(run) + "_" +
         std::to_string(counter++);
}

// The URL with its port replaced (to go through a proxy) and the scenario's
// namespace and timeouts appended.
std::string scenario_url(const Driver& d, std::optional<int> port) {
  std::string url = base_url(d);
  if (port) {
    const std::size_t host = url.find("@127.0.0.1:");
    REQUIRE(host != std::string::npos);
    const std::size_t begin = host + 11;
    const std::size_t end = url.find_first_not_of("0123456789", begin);
    url.replace(begin, end - begin, std::to_string(*port));
  }
  url += url.find('?') == std::string::npos ? "?" : "&";
  url += d.ns_param + "=" + unique_name() + "&connect_timeout=500ms&command_timeout=1s" +
         "&pool_timeout=1s&request_timeout=3s";
  return url;
}

int server_port(const Driver& d) {
  const std::string url = base_url(d);
  const std::size_t host = url.find("@127.0.0.1:");
  REQUIRE(host != std::string::npos);
  return std::stoi(url.substr(host + 11));
}

// ------------------------------------------------------------ processes ---

std::vector<pid_t> server_pids(const Driver& d) {
  const std::string dir = test_support::services_dir();
  std::string pid_file;
  if (d.service == "redis") pid_file = dir + "/redis/redis.pid";
  if (d.service == "postgres") pid_file = dir + "/postgres/data/postmaster.pid";
  if (d.service == "mariadb") pid_file = dir + "/mariadb/mariadbd.pid";
  std::ifstream in(pid_file);
  pid_t main = 0;
  in >> main;
  INFO(pid_file);
  REQUIRE(main > 1);
  std::vector<pid_t> pids{main};
  // PostgreSQL's backends are the postmaster's children.
  FILE* children = ::popen(("pgrep -P " + std::to_string(main)).c_str(), "r");
  REQUIRE(children != nullptr);
  int pid = 0;
  while (std::fscanf(children, "%d", &pid) == 1) pids.push_back(pid);
  ::pclose(children);
  return pids;
}

bool gone(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return true;
  const std::size_t paren = line.rfind(')');
  return paren != std::string::npos && line.compare(paren + 2, 1, "Z") == 0;
}

// SIGSTOPs the server's processes and SIGCONTs them when destroyed. A forked
// child resumes them after `at_most` in case this process dies first.
class Stopped {
 public:
  Stopped(std::vector<pid_t> pids, std::chrono::seconds at_most) : pids_(std::move(pids)) {
    for (pid_t pid : pids_) ::kill(pid, SIGSTOP);  // the postmaster first: it forks no more
    safety_ = ::fork();
    if (safety_ == 0) {
      timespec wait{static_cast<time_t>(at_most.count()), 0};
      while (::nanosleep(&wait, &wait) != 0) {
      }
      for (pid_t pid : pids_) ::kill(pid, SIGCONT);
      ::_exit(0);
    }
  }
  ~Stopped() {
    for (auto it = pids_.rbegin(); it != pids_.rend(); ++it) ::kill(*it, SIGCONT);
    if (safety_ > 0) {
      ::kill(safety_, SIGKILL);
      ::waitpid(safety_, nullptr, 0);
    }
  }
  Stopped(const Stopped&) = delete;
  Stopped& operator=(const Stopped&) = delete;

 private:
  std::vector<pid_t> pids_;
  pid_t safety_ = -1;
};

void kill_and_start(const Driver& d) {
  const std::vector<pid_t> pids = server_pids(d);
  for (pid_t pid : pids) ::kill(pid, SIGKILL);
  const auto deadline = Clock::now() + 20s;
  for (pid_t pid : pids) {
    while (!gone(pid)) {
      REQUIRE(Clock::now() < deadline);
      std::this_thread::sleep_for(20ms);
    }
  }
  // The dead server may stay a zombie for a while (its parent is init):
  // PostgreSQL would take its pid for a live postmaster and refuse to start.
  // Remove the lock files that still name it, as test-services.sh does
  // after a SIGKILL of its own.
  if (d.service == "postgres") {
    const std::string dir = test_support::services_dir() + "/postgres";
    std::ifstream port_file(dir + "/port");
    std::string port;
    port_file >> port;
    for (const std::string& file :
         {dir + "/data/postmaster.pid", dir + "/.s.PGSQL." + port + ".lock"}) {
      std::ifstream in(file);
      pid_t owner = 0;
      if (in >> owner && owner == pids.front()) std::remove(file.c_str());
    }
  }
  test_support::service_control("start", d.service);
}

// -------------------------------------------------------------- records ---

struct Op {
  bool async = false;
  bool write = false;
  char kind = 'g';  // get, set, cas
  Clock::time_point start, end;
  bool ok = false;
  ErrorCode code = ErrorCode::internal;
  bool retryable = false;
  bool unknown = false;
  std::string what;
};

// The writes to one key that only one caller writes, in order, with unique
// increasing values: what the key may hold afterwards.
struct Ledger {
  enum class State { acked, failed, unknown };
  std::vector<std::pair<std::int64_t, State>> writes;
};

Op finish(Op op, const std::exception_ptr& error) {
  op.end = Clock::now();
  if (!error) {
    op.ok = true;
    return op;
  }
  try {
    std::rethrow_exception(error);
  } catch (const kvstore::Error& e) {
    op.code = e.code();
    op.retryable = e.retryable();
    op.unknown = e.outcome_unknown();
    op.what = e.what();
  } catch (const std::exception& e) {
    op.what = std::string("not a kvstore::Error: ") + e.what();
  }
  return op;
}

// Whether `held` is what the owner's key may hold after `ledger`'s writes:
// the last acknowledged value, or any write whose outcome is unknown (it may
// land at any time, even after a later acknowledged one), or nothing if no
// write was acknowledged. A value from a write reported as failed, or an
// older acknowledged one, is not.
struct Verdict {
  bool allowed = false;
  bool lost = false;            // an acknowledged write is not there
  bool applied_failed = false;  // a write reported as failed is there
};

Verdict judge(const Ledger& ledger, const std::optional<Value>& held) {
  const auto& writes = ledger.writes;
  std::optional<std::size_t> last_acked, found;
  for (std::size_t w = 0; w < writes.size(); ++w) {
    if (writes[w].second == Ledger::State::acked) last_acked = w;
    if (held && *held == Value(writes[w].first)) found = w;
  }
  Verdict v;
  if (!found) {
    v.allowed = !held && !last_acked;
    v.lost = last_acked.has_value();
    return v;
  }
  switch (writes[*found].second) {
    case Ledger::State::acked:
      v.allowed = found == last_acked;
      v.lost = !v.allowed;
      break;
    case Ledger::State::unknown:
      v.allowed = true;
      break;
    case Ledger::State::failed:
      v.applied_failed = true;
      break;
  }
  return v;
}

Ledger::State state_of(const Op& op) {
  if (op.ok) return Ledger::State::acked;
  return op.unknown ? Ledger::State::unknown : Ledger::State::failed;
}

KvKey shared_key(int i) { return {"shared", std::to_string(i)}; }

// ------------------------------------------------------------- workload ---

class Load {
 public:
  explicit Load(kvstore::KvStore& store)
      : store_(store), sync_ledgers_(kSyncThreads), async_ledgers_(kAsyncInFlight) {}
  // A failed REQUIRE leaves through here: nothing may outlive the load.
  ~Load() {
    if (!stop(60s)) std::abort();  // an async call hangs: no safe way on
  }
  Load(const Load&) = delete;
  Load& operator=(const Load&) = delete;

  void start() {
    for (int t = 0; t < kSyncThreads; ++t) threads_.emplace_back([this, t] { sync_worker(t); });
    in_flight_ = kAsyncInFlight;
    for (int slot = 0; slot < kAsyncInFlight; ++slot) {
      rngs_.emplace_back(static_cast<unsigned>(1000 + slot));
    }
    for (int slot = 0; slot < kAsyncInFlight; ++slot) issue(slot, 0);
  }

  // Stops issuing calls and waits for the ones in flight; false if async
  // calls are still pending after `at_most` (a hang).
  bool stop(std::chrono::seconds at_most) {
    stopping_ = true;
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
    std::unique_lock lock(mutex_);
    return done_.wait_for(lock, at_most, [&] { return in_flight_ == 0; });
  }

  std::vector<Op> ops() const {
    std::lock_guard lock(mutex_);
    return ops_;
  }
  KvKey own_key(bool async, int i) const { return {"own", async ? "a" : "s", std::to_string(i)}; }
  const std::vector<Ledger>& ledgers(bool async) const {
    return async ? async_ledgers_ : sync_ledgers_;
  }

 private:
  static std::int64_t unique_value(bool async, int owner, std::int64_t seq) {
    return ((async ? 1000 : 0) + owner) * (std::int64_t{1} << 32) + seq;
  }

  // The owner reads its own key back during the load.
  void check_own(bool async, int owner, const Ledger& ledger, const std::optional<Value>& held) {
    const Verdict v = judge(ledger, held);
    if (v.allowed) return;
    std::lock_guard lock(mutex_);
    (v.applied_failed ? applied_failed_ : lost_)
        .push_back(std::string(async ? "async" : "sync") + " owner " + std::to_string(owner) +
                   " read " + (held ? held->dump() : "nothing") + " after " +
                   std::to_string(ledger.writes.size()) + " writes");
  }

 public:
  // Violations seen by owners reading their own keys during the load.
  std::vector<std::string> applied_failed() const {
    std::lock_guard lock(mutex_);
    return applied_failed_;
  }
  std::vector<std::string> lost() const {
    std::lock_guard lock(mutex_);
    return lost_;
  }

 private:
  void record(const Op& op) {
    std::lock_guard lock(mutex_);
    ops_.push_back(op);
  }

  void sync_worker(int t) {
    std::mt19937 rng(static_cast<unsigned>(t));
    std::int64_t seq = 0;
    while (!stopping_) {
      const int pick = static_cast<int>(rng() % 10);
      const KvKey key = shared_key(static_cast<int>(rng() % kSharedKeys));
      Op op;
      op.start = Clock::now();
      std::exception_ptr error;
      try {
        if (pick < 3) {
          store_.get(key);
        } else if (pick < 4) {
          const std::optional<Value> held = store_.get(own_key(false, t));
          check_own(false, t, sync_ledgers_[static_cast<std::size_t>(t)], held);
        } else if (pick < 7) {
          op.write = true;
          op.kind = 's';
          const std::int64_t v = unique_value(false, t, ++seq);
          try {
            store_.set(own_key(false, t), v);
          } catch (...) {
            error = std::current_exception();
          }
          const Op done = finish(op, error);
          sync_ledgers_[static_cast<std::size_t>(t)].writes.emplace_back(v, state_of(done));
          record(done);
          continue;
        } else {
          const std::optional<Value> seen = store_.get(key);
          op.write = true;
          op.kind = 'c';
          op.start = Clock::now();
          store_.cas(key, seen, Value(unique_value(false, t, ++seq)));
        }
      } catch (...) {
        error = std::current_exception();
      }
      record(finish(op, error));
    }
  }

  // One async call for `slot`; its callback records it and issues the next.
  void issue(int slot, std::int64_t seq) {
    if (stopping_) {
      std::lock_guard lock(mutex_);
      if (--in_flight_ == 0) done_.notify_all();
      return;
    }
    const int pick = static_cast<int>(rngs_[static_cast<std::size_t>(slot)]() % 10);
    const KvKey key = shared_key(slot % kSharedKeys);
    Op op;
    op.async = true;
    op.start = Clock::now();
    if (pick == 3) {
      store_.async_get(
          own_key(true, slot), [this, op, slot, seq](kvstore::Result<std::optional<Value>> r) {
            if (r) {
              check_own(true, slot, async_ledgers_[static_cast<std::size_t>(slot)], r.value());
            }
            record(finish(op, r ? nullptr : std::make_exception_ptr(r.error())));
            issue(slot, seq);
          });
    } else if (pick < 4) {
      store_.async_get(key, [this, op, slot, seq](kvstore::Result<std::optional<Value>> r) {
        record(finish(op, r ? nullptr : std::make_exception_ptr(r.error())));
        issue(slot, seq);
      });
    } else if (pick < 7) {
      op.write = true;
      op.kind = 's';
      const std::int64_t v = unique_value(true, slot, seq + 1);
      store_.async_set(
          own_key(true, slot), Value(v), {}, [this, op, slot, seq, v](kvstore::Result<void> r) {
            const Op done = finish(op, r ? nullptr : std::make_exception_ptr(r.error()));
            async_ledgers_[static_cast<std::size_t>(slot)].writes.emplace_back(v, state_of(done));
            record(done);
            issue(slot, seq + 1);
          });
    } else {
      op.write = true;
      op.kind = 'c';
      // Expects a value other callers rarely leave: mostly a failed swap,
      // sometimes a swap; both are successes for this test.
      store_.async_cas(key, std::nullopt, Value(unique_value(true, slot, seq + 1)), {},
                       [this, op, slot, seq](kvstore::Result<bool> r) {
                         record(finish(op, r ? nullptr : std::make_exception_ptr(r.error())));
                         issue(slot, seq + 1);
                       });
    }
  }

  kvstore::KvStore& store_;
  std::vector<std::thread> threads_;
  std::vector<std::mt19937> rngs_;
  std::atomic<bool> stopping_{false};
  mutable std::mutex mutex_;
  std::condition_variable done_;
  int in_flight_ = 0;
  std::vector<Op> ops_;
  std::vector<std::string> applied_failed_, lost_;
  // Each ledger is written by its owner only (a thread, or an async slot
  // whose calls follow one another), read after stop().
  std::vector<Ledger> sync_ledgers_;
  std::vector<Ledger> async_ledgers_;
};

// One set and get on the same store, true if both succeed.
bool store_answers(kvstore::KvStore& store) {
  try {
    store.set({"probe"}, 1);
    return store.get({"probe"}) == Value(1);
  } catch (const kvstore::Error&) {
    return false;
  }
}

// ------------------------------------------------------------- scenario ---

void run_scenario(const Driver& d, Fault fault) {
  // A scenario that failed earlier may have left the server stopped (but
  // never start one this test run did not: its URL must be set).
  (void)base_url(d);
  test_support::service_control("start", d.service);
  std::unique_ptr<test_support::FaultProxy> proxy;
  const bool via_proxy = fault == Fault::blackhole || fault == Fault::reset;
  if (via_proxy) proxy = std::make_unique<test_support::FaultProxy>(server_port(d));
  const std::string url = scenario_url(d, proxy ? std::optional<int>(proxy->port()) : std::nullopt);

  if (fault == Fault::down_at_open) test_support::service_control("stop", d.service);
  auto store = kvstore::open(url);
  if (fault != Fault::down_at_open) {
    REQUIRE(store_answers(*store));  // connected and the table exists before the fault
  }

  Load load(*store);
  load.start();
  Clock::time_point fault_start = Clock::now();
  if (fault != Fault::down_at_open) {
    std::this_thread::sleep_for(700ms);
    fault_start = Clock::now();
  }
  switch (fault) {
    case Fault::restart:
      test_support::service_control("restart", d.service);
      break;
    case Fault::kill:
      kill_and_start(d);
      break;
    case Fault::stall: {
      Stopped stopped(server_pids(d), 30s);
      std::this_thread::sleep_for(kCommandTimeout + 1500ms);
      break;
    }
    case Fault::blackhole:
      proxy->blackhole();
      std::this_thread::sleep_for(kCommandTimeout + 1500ms);
      proxy->pass();
      break;
    case Fault::reset:
      proxy->reset();
      std::this_thread::sleep_for(1s);
      proxy->pass();
      break;
    case Fault::down_at_open:
      std::this_thread::sleep_for(1500ms);
      test_support::service_control("start", d.service);
      break;
  }
  const Clock::time_point fault_end = Clock::now();
  std::this_thread::sleep_for(1500ms);
  const bool drained = load.stop(30s);
  REQUIRE(drained);  // no async call left pending

  // Recovery: the first success of a call that began after the fault ended,
  // or else sequential probes.
  const std::vector<Op> ops = load.ops();
  std::optional<Clock::time_point> recovered;
  for (const Op& op : ops) {
    if (op.ok && op.start >= fault_end && (!recovered || op.end < *recovered)) recovered = op.end;
  }
  while (!recovered && Clock::now() < fault_end + kRecoveryBound) {
    if (store_answers(*store))
      recovered = Clock::now();
    else
      std::this_thread::sleep_for(50ms);
  }
  const double recovery_s =
      recovered ? std::chrono::duration<double>(*recovered - fault_end).count() : -1;
  INFO("recovery after " << recovery_s << " s");
  REQUIRE(recovered);
  CHECK(*recovered - fault_end < kRecoveryBound);
  // Once it answers, it keeps answering: no broken connection left pooled.
  int failures_after = 0;
  std::string first_failure;
  for (int i = 0; i < 40; ++i) {
    try {
      store->set({"after", std::to_string(i % 4)}, i);
      (void)store->get({"after", std::to_string(i % 4)});
      (void)store->cas({"after", std::to_string(i % 4)}, Value(i), Value(i + 1));
    } catch (const kvstore::Error& e) {
      if (failures_after++ == 0) first_failure = e.what();
    }
  }
  {
    std::mutex m;
    std::condition_variable cv;
    int pending = 16;
    int async_failures = 0;
    for (int i = 0; i < 16; ++i) {
      store->async_get({"after", "0"}, [&](kvstore::Result<std::optional<Value>> r) {
        std::lock_guard lock(m);
        if (!r) ++async_failures;
        if (--pending == 0) cv.notify_all();
      });
    }
    std::unique_lock lock(m);
    REQUIRE(cv.wait_for(lock, 10s, [&] { return pending == 0; }));
    failures_after += async_failures;
  }
  INFO("first failure after recovery: " << first_failure);
  CHECK(failures_after == 0);

  // Owners reading their own keys back during the load.
  const std::vector<std::string> seen_applied_failed = load.applied_failed();
  const std::vector<std::string> seen_lost = load.lost();
  for (const std::string& s : seen_applied_failed) {
    std::printf("FAULTS-VIOLATION driver=%s scenario=%s applied after a failure: %s\n",
                d.name.c_str(), fault_name(fault), s.c_str());
  }
  for (const std::string& s : seen_lost) {
    std::printf("FAULTS-LOST driver=%s scenario=%s acknowledged write missing: %s\n",
                d.name.c_str(), fault_name(fault), s.c_str());
  }
  CHECK(seen_applied_failed.empty());
  if (d.durable || (fault != Fault::restart && fault != Fault::kill)) CHECK(seen_lost.empty());

  // Outcomes: every error retryable, timeout or unavailable; nothing beyond
  // its deadline; a write reported failed never applied.
  for (int api = 0; api < 2; ++api) {
    const bool async = api == 1;
    std::size_t count = 0, ok = 0, retryable = 0, unknown = 0;
    double worst = 0;
    std::map<std::string, int> codes;
    std::map<std::string, std::string> example;  // one message per class, for the report
    for (const Op& op : ops) {
      if (op.async != async) continue;
      ++count;
      const double took = std::chrono::duration<double>(op.end - op.start).count();
      worst = std::max(worst, took);
      const auto bound = async ? kAsyncBound : kSyncBound;
      INFO((async ? "async" : "sync")
           << " call took " << took << " s: " << (op.ok ? "ok" : op.what));
      CHECK(op.end - op.start <= bound);
      if (op.ok) {
        ++ok;
        continue;
      }
      ++codes[std::string(1, op.kind) + "/" + std::string(kvstore::to_string(op.code)) +
              (op.unknown ? "/unknown" : "")];
      example.emplace(std::string(1, op.kind) + "/" + std::string(kvstore::to_string(op.code)) +
                          (op.unknown ? "/unknown" : ""),
                      op.what);
      if (op.unknown)
        ++unknown;
      else
        ++retryable;
      CHECK(op.retryable);
      CHECK((op.code == ErrorCode::timeout || op.code == ErrorCode::unavailable));
      if (!op.write) CHECK_FALSE(op.unknown);  // a read has no outcome to lose
    }
    CHECK(ok > 0);
    // Acknowledged writes: what each owned key holds now. Redis is not
    // durable here (no fsync'd append-only file): after a restart or a
    // crash its losses are counted, not failed.
    const bool must_keep = d.durable || (fault != Fault::restart && fault != Fault::kill);
    std::size_t lost = 0, applied_failed = 0;
    const auto& ledgers = load.ledgers(async);
    for (std::size_t i = 0; i < ledgers.size(); ++i) {
      if (ledgers[i].writes.empty()) continue;
      std::optional<Value> held;
      REQUIRE_NOTHROW(held = store->get(load.own_key(async, static_cast<int>(i))));
      const Verdict v = judge(ledgers[i], held);
      lost += v.lost ? 1 : 0;
      applied_failed += v.applied_failed ? 1 : 0;
      INFO("key " << i << (async ? " (async)" : " (sync)") << " holds "
                  << (held ? held->dump() : "nothing"));
      CHECK_FALSE(v.applied_failed);
      if (must_keep) CHECK(v.allowed);
    }
    std::ostringstream line;
    line << "FAULTS driver=" << d.name << " scenario=" << fault_name(fault)
         << " api=" << (async ? "async" : "sync") << " calls=" << count << " ok=" << ok
         << " retryable_errors=" << retryable << " outcome_unknown=" << unknown << " codes=";
    bool first = true;
    for (const auto& [code, n] : codes) {
      line << (first ? "" : ",") << code << ":" << n;
      first = false;
    }
    if (codes.empty()) line << "none";
    char numbers[160];
    std::snprintf(numbers, sizeof numbers,
                  " worst=%.3fs recovery=%.3fs fault=%.3fs lost_acked=%zu applied_failed=%zu "
                  "failures_after_recovery=%d",
                  worst, recovery_s, std::chrono::duration<double>(fault_end - fault_start).count(),
                  lost, applied_failed, failures_after);
    line << numbers;
    const std::string api_tag = async ? "async " : "sync ";
    auto count_of = [&](const std::vector<std::string>& seen) {
      return std::count_if(seen.begin(), seen.end(),
                           [&](const std::string& s) { return s.rfind(api_tag, 0) == 0; });
    };
    line << " in_load_lost=" << count_of(seen_lost)
         << " in_load_applied_failed=" << count_of(seen_applied_failed);
    std::printf("%s\n", line.str().c_str());
    for (const auto& [kind, what] : example) {
      std::printf("FAULTS-EXAMPLE driver=%s scenario=%s api=%s %s: %s\n", d.name.c_str(),
                  fault_name(fault), async ? "async" : "sync", kind.c_str(), what.c_str());
    }
    std::fflush(stdout);
  }
}

const Driver kRedis{"redis", "redis", "KVSTORE_TEST_REDIS_URL", "prefix", false};
const Driver kPostgres{"postgres", "postgres", "KVSTORE_TEST_POSTGRES_URL", "table", true};
const Driver kMysql{"mysql", "mariadb", "KVSTORE_TEST_MYSQL_URL", "table", true};

}  // namespace

#define KVSTORE_FAULT_CASES(driver, tag)                                               \
  TEST_CASE("faults: " tag " server restart mid-load", "[faults][" tag "]") {          \
    run_scenario(driver, Fault::restart);                                              \
  }                                                                                    \
  TEST_CASE("faults: " tag " server SIGKILL then start", "[faults][" tag "]") {        \
    run_scenario(driver, Fault::kill);                                                 \
  }                                                                                    \
  TEST_CASE("faults: " tag " server SIGSTOP past command_timeout then SIGCONT",        \
            "[faults][" tag "]") {                                                     \
    run_scenario(driver, Fault::stall);                                                \
  }                                                                                    \
  TEST_CASE("faults: " tag " blackholed network", "[faults][" tag "]") {               \
    run_scenario(driver, Fault::blackhole);                                            \
  }                                                                                    \
  TEST_CASE("faults: " tag " connections reset", "[faults][" tag "]") {                \
    run_scenario(driver, Fault::reset);                                                \
  }                                                                                    \
  TEST_CASE("faults: " tag " server down when the store opens", "[faults][" tag "]") { \
    run_scenario(driver, Fault::down_at_open);                                         \
  }

#ifdef KVSTORE_FAULTS_REDIS
KVSTORE_FAULT_CASES(kRedis, "redis")
#endif
#ifdef KVSTORE_FAULTS_POSTGRES
KVSTORE_FAULT_CASES(kPostgres, "postgres")
#endif
#ifdef KVSTORE_FAULTS_MYSQL
KVSTORE_FAULT_CASES(kMysql, "mysql")
#endif
