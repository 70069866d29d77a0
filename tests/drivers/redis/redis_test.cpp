// The Redis driver's own tests, against the test server in
// KVSTORE_TEST_REDIS_URL (scripts/test-services.sh). They look at the
// documented data layout (docs/drivers/redis.md) with raw hiredis.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <kvstore/driver.h>
#include <kvstore/kvstore.h>
#include <kvstore/redis.h>

#include "store_helpers.h"
#include "test_services.h"

using namespace std::chrono_literals;
using kvstore::ErrorCode;
using kvstore::KvKey;
using kvstore::Value;

using test_support::open_and_ping;

namespace {

std::string base_url() {
  const char* url = std::getenv("KVSTORE_TEST_REDIS_URL");
  if (url == nullptr || *url == '\0') FAIL("KVSTORE_TEST_REDIS_URL is not set");
  return url;
}

std::string unique_prefix(const std::string& tag) {
  static std::atomic<int> counter{0};
  static const unsigned run = std::random_device{}();
  return "kvdt_" + tag + "_" + std::to_string(::getpid()) + "_" + std::to_string(run % 100000) +
         "_" + std::to_string(counter++);
}

std::string url_with(const std::string& params) {
  std::string url = base_url();
  return url + (url.find('?') == std::string::npos ? "?" : "&") + params;
}

// The layout's key names for a prefix (docs/drivers/redis.md).
std::string tag_of(const std::string& prefix) {
  return std::to_string(prefix.size()) + ":" + prefix;
}

struct ContextDeleter {
  void operator()(redisContext* c) const { redisFree(c); }
};
struct ReplyDeleter {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using Reply = std::unique_ptr<redisReply, ReplyDeleter>;

// hiredis's binary-safe argv form of a command; views into `args`.
struct Argv {
  explicit Argv(const std::vector<std::string>& args) {
    for (const std::string& a : args) {
      pointers.push_back(a.data());
      lengths.push_back(a.size());
    }
  }
  int count() const { return static_cast<int>(pointers.size()); }
  std::vector<const char*> pointers;
  std::vector<size_t> lengths;
};

// A raw hiredis connection to the test server, as the kvstore user.
class Raw {
 public:
  Raw() {
    kvstore::Url url = kvstore::Url::parse(base_url());
    context_.reset(redisConnect(url.host().c_str(), url.port().value_or(6379)));
    REQUIRE(context_);
    REQUIRE(context_->err == 0);
    if (url.password()) {
      std::vector<std::string> auth = {"AUTH"};
      if (!url.user().empty()) auth.push_back(url.user());
      auth.push_back(*url.password());
      REQUIRE(command(auth)->type == REDIS_REPLY_STATUS);
    }
  }
  Reply command(const std::vector<std::string>& args) {
    Argv argv(args);
    Reply reply(static_cast<redisReply*>(
        redisCommandArgv(context_.get(), argv.count(), argv.pointers.data(), argv.lengths.data())));
    REQUIRE(reply);
    return reply;
  }
  long long integer(const std::vector<std::string>& args) {
    Reply reply = command(args);
    INFO((reply->type == REDIS_REPLY_ERROR ? std::string(reply->str, reply->len) : ""));
    REQUIRE(reply->type == REDIS_REPLY_INTEGER);
    return reply->integer;
  }
  void append(const std::vector<std::string>& args) {
    Argv argv(args);
    REQUIRE(redisAppendCommandArgv(context_.get(), argv.count(), argv.pointers.data(),
                                   argv.lengths.data()) == REDIS_OK);
  }
  void drain(std::size_t replies) {
    for (std::size_t i = 0; i < replies; ++i) {
      void* r = nullptr;
      REQUIRE(redisGetReply(context_.get(), &r) == REDIS_OK);
      Reply reply(static_cast<redisReply*>(r));
      REQUIRE(reply->type != REDIS_REPLY_ERROR);
    }
  }
  // calls= of one command in INFO commandstats.
  long long calls(const std::string& command_name) {
    Reply reply = command({"INFO", "commandstats"});
    std::string text(reply->str, reply->len);
    std::string needle = "cmdstat_" + command_name + ":calls=";
    std::size_t at = text.find(needle);
    if (at == std::string::npos) return 0;
    return std::stoll(text.substr(at + needle.size()));
  }

 private:
  std::unique_ptr<redisContext, ContextDeleter> context_;
};

void services(const std::string& action) { test_support::service_control(action, "redis"); }

template <class F>
ErrorCode error_code_of(F&& call) {
  try {
    call();
  } catch (const kvstore::Error& e) {
    INFO(e.what());
    CHECK(e.driver() == "redis");
    return e.code();
  }
  FAIL("no kvstore::Error thrown");
  return ErrorCode::internal;
}

// The kvstore::Error `call` throws; fails the test if it throws none.
template <class F>
kvstore::Error error_of(F&& call) {
  try {
    call();
  } catch (const kvstore::Error& e) {
    CHECK(e.driver() == "redis");
    return e;
  }
  FAIL("no kvstore::Error thrown");
  throw std::logic_error("unreachable");
}

long long ms_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                               start)
      .count();
}

// A Redis server of the test's own, on a free loopback port, in a temporary
// directory: the shared server must not be stopped, paused or reconfigured by
// tests that run next to others. Its default user has no password; the ACL
// user kvstore:kvstore exists as on the shared server. Stopped (by the pid it
// recorded) and removed when the object goes.
class OwnRedis {
 public:
  OwnRedis() {
    char pattern[] = "/tmp/kv-redis-own.XXXXXX";
    REQUIRE(::mkdtemp(pattern) != nullptr);
    dir_ = pattern;
    port_ = test_support::unused_loopback_port();
    const std::string command = "redis-server --port " + std::to_string(port_) +
                                " --bind 127.0.0.1 --save '' --appendonly no --daemonize yes"
                                " --pidfile " +
                                dir_ + "/redis.pid --dir " + dir_ + " --logfile " + dir_ +
                                "/redis.log --user kvstore on '>kvstore' '~*' '&*' '+@all'";
    REQUIRE(std::system(command.c_str()) == 0);
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < deadline) {
      if (pid_ == 0) {
        std::ifstream file(dir_ + "/redis.pid");
        if (!(file >> pid_)) pid_ = 0;
      }
      if (pid_ != 0 && ping()) return;
      std::this_thread::sleep_for(20ms);
    }
    FAIL("redis-server on port " << port_ << " did not start; see " << dir_ << "/redis.log");
  }
  ~OwnRedis() { stop(); }
  OwnRedis(const OwnRedis&) = delete;
  OwnRedis& operator=(const OwnRedis&) = delete;

  std::string host() const { return "127.0.0.1:" + std::to_string(port_); }
  int port() const { return port_; }
  void pause() { REQUIRE(::kill(pid_, SIGSTOP) == 0); }
  void resume() { REQUIRE(::kill(pid_, SIGCONT) == 0); }
  // SIGTERM and wait until the process is gone, so the port refuses.
  void stop() {
    if (pid_ > 0) {
      ::kill(pid_, SIGCONT);
      ::kill(pid_, SIGTERM);
      const auto deadline = std::chrono::steady_clock::now() + 10s;
      while (::kill(pid_, 0) == 0 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(10ms);
      }
      pid_ = 0;
    }
    if (!dir_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
      dir_.clear();
    }
  }
  // One command as the default user (no password); the reply's type.
  int command(const std::vector<std::string>& args) {
    std::unique_ptr<redisContext, ContextDeleter> c(redisConnect("127.0.0.1", port_));
    REQUIRE(c);
    REQUIRE(c->err == 0);
    Argv argv(args);
    Reply reply(static_cast<redisReply*>(
        redisCommandArgv(c.get(), argv.count(), argv.pointers.data(), argv.lengths.data())));
    REQUIRE(reply);
    return reply->type;
  }

 private:
  bool ping() {
    std::unique_ptr<redisContext, ContextDeleter> c(
        redisConnectWithTimeout("127.0.0.1", port_, timeval{0, 200000}));
    if (!c || c->err != 0) return false;
    Reply reply(static_cast<redisReply*>(redisCommand(c.get(), "PING")));
    return reply && reply->type == REDIS_REPLY_STATUS;
  }

  std::string dir_;
  int port_ = 0;
  pid_t pid_ = 0;
};

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("redis: prefixes are namespaces that never overlap", "[redis]") {
  const std::string base = unique_prefix("ns");
  // "a" vs "a:b" vs "1:a": a naive "prefix:" + key layout would mix these up.
  std::vector<std::string> prefixes = {
      base + "a", base + "a:b", base + "a:v:", "1:" + base + "a", base + "a:i", ""};
  std::vector<std::unique_ptr<kvstore::KvStore>> stores;
  for (const std::string& p : prefixes) {
    stores.push_back(kvstore::open(url_with("prefix=" + p)));
  }
  // Empty prefix: the shared default-less namespace; clean what we write there.
  for (std::size_t i = 0; i < stores.size(); ++i) {
    stores[i]->set({"b", "k"}, static_cast<int>(i));
    stores[i]->set({"b:k"}, static_cast<int>(i));
    stores[i]->set({"i"}, static_cast<int>(i));
  }
  for (std::size_t i = 0; i < stores.size(); ++i) {
    CHECK(stores[i]->get({"b", "k"}) == Value(static_cast<int>(i)));
    CHECK(stores[i]->get({"b:k"}) == Value(static_cast<int>(i)));
    std::vector<kvstore::Entry> listed = stores[i]->list({}).to_vector();
    if (i + 1 < stores.size()) CHECK(listed.size() == 3);
    for (const kvstore::Entry& e : listed) {
      if (e.key == KvKey{"b", "k"} || e.key == KvKey{"b:k"} || e.key == KvKey{"i"}) {
        CHECK(e.value == Value(static_cast<int>(i)));
      }
    }
  }
  for (auto& store : stores) {
    store->remove({"b", "k"});
    store->remove({"b:k"});
    store->remove({"i"});
  }
  CHECK(stores[0]->list().to_vector().empty());
}

TEST_CASE("redis: the documented layout, PX ttl and index", "[redis]") {
  const std::string prefix = unique_prefix("layout");
  auto store = kvstore::open(url_with("prefix=" + prefix));
  Raw raw;
  const KvKey key{"users", "alice:1"};
  const std::string encoded = kvstore::encode_key(key);
  const std::string tag = tag_of(prefix);
  store->set(key, Value{{"name", "Alice"}}, {1500ms});
  Reply value = raw.command({"GET", tag + ":v:" + encoded});
  REQUIRE(value->type == REDIS_REPLY_STRING);
  CHECK(std::string(value->str, value->len) == R"({"name":"Alice"})");
  long long pttl = raw.integer({"PTTL", tag + ":v:" + encoded});
  CHECK(pttl > 1300);
  CHECK(pttl <= 1500);
  CHECK(raw.integer({"ZCARD", tag + ":i"}) == 1);
  CHECK(raw.integer({"ZCARD", tag + ":x"}) == 1);
  store->set(key, 2);  // permanent now
  CHECK(raw.integer({"PTTL", tag + ":v:" + encoded}) == -1);
  CHECK(raw.integer({"ZCARD", tag + ":x"}) == 0);
  store->remove(key);
  CHECK(raw.integer({"EXISTS", tag + ":v:" + encoded, tag + ":i"}) == 0);
}

TEST_CASE("redis: scripts are reloaded after SCRIPT FLUSH", "[redis]") {
  auto store = kvstore::open(url_with("prefix=" + unique_prefix("flush")));
  store->set({"a"}, 1);
  Raw raw;
  REQUIRE(raw.command({"SCRIPT", "FLUSH"})->type == REDIS_REPLY_STATUS);
  store->set({"b"}, 2);
  REQUIRE(raw.command({"SCRIPT", "FLUSH"})->type == REDIS_REPLY_STATUS);
  CHECK(store->cas({"a"}, Value(1), Value(3)));
  REQUIRE(raw.command({"SCRIPT", "FLUSH"})->type == REDIS_REPLY_STATUS);
  CHECK(store->list().to_vector().size() == 2);
}

TEST_CASE("redis: expired index members are swept by writes and dropped by listing",
          "[redis][ttl]") {
  const std::string prefix = unique_prefix("sweep");
  auto store = kvstore::open(url_with("prefix=" + prefix));
  Raw raw;
  const std::string tag = tag_of(prefix);
  for (int i = 0; i < 200; ++i) store->set({"e", std::to_string(i)}, i, {50ms});
  store->set({"live"}, true);
  CHECK(raw.integer({"ZCARD", tag + ":i"}) == 201);
  std::this_thread::sleep_for(1200ms);  // past the sweep's one-second slack
  // Each write forgets up to 16 members that expired over a second ago.
  for (int i = 0; i < 5; ++i) store->set({"w", std::to_string(i)}, i);
  CHECK(raw.integer({"ZCARD", tag + ":i"}) == 201 - 5 * 16 + 5);
  // A listing drops the rest it walks over, and returns only live entries.
  CHECK(store->list().to_vector().size() == 6);
  CHECK(raw.integer({"ZCARD", tag + ":i"}) == 6);
  CHECK(raw.integer({"ZCARD", tag + ":x"}) == 0);
}

TEST_CASE("redis: listing skips long runs of dead members and still fills the page",
          "[redis][list]") {
  const std::string prefix = unique_prefix("dead");
  auto store = kvstore::open(url_with("prefix=" + prefix));
  Raw raw;
  const std::string tag = tag_of(prefix);
  // 2,500 index members without values (as left by keys Redis expired), more
  // than one list call drops, between live keys.
  store->set({"k", "0000"}, 0);
  for (int i = 1; i <= 2500; i += 500) {
    std::vector<std::string> zadd = {"ZADD", tag + ":i"};
    for (int j = i; j < i + 500; ++j) {
      char name[16];
      std::snprintf(name, sizeof name, "%04d", j);
      zadd.push_back("0");
      zadd.push_back(kvstore::encode_key({"k", name}));
    }
    raw.integer(zadd);
  }
  store->set({"k", "9998"}, 1);
  store->set({"k", "9999"}, 2);
  auto page = store->list({"k"}, {.start_after = std::nullopt, .limit = 3}).to_vector();
  REQUIRE(page.size() == 3);
  CHECK(page[1].key == KvKey{"k", "9998"});
  CHECK(raw.integer({"ZCARD", tag + ":i"}) == 3);
}

TEST_CASE("redis: listing 100 keys costs the same next to 1,000 or 200,000 other keys",
          "[redis][list][scale][serial]") {
  Raw raw;
  // Lists {"target"} (100 keys) and returns microseconds per listed entry
  // (best of several runs) and the server-side commands one listing ran.
  struct Cost {
    double us_per_entry;
    long long gets, zrangebylex, scans;
  };
  auto measure = [&](kvstore::KvStore& store) {
    // Commands are counted server-wide: the least seen in one run is this
    // listing's own (other clients only add).
    Cost cost{1e9, 1LL << 60, 1LL << 60, 1LL << 60};
    for (int run = 0; run < 20; ++run) {
      long long gets = raw.calls("get"), ranges = raw.calls("zrangebylex");
      long long scans = raw.calls("scan") + raw.calls("keys");
      auto start = std::chrono::steady_clock::now();
      std::size_t n = store.list_json({"target"}).to_vector().size();
      auto elapsed = std::chrono::steady_clock::now() - start;
      REQUIRE(n == 100);
      cost.us_per_entry = std::min(
          cost.us_per_entry, std::chrono::duration<double, std::micro>(elapsed).count() / 100.0);
      cost.gets = std::min(cost.gets, raw.calls("get") - gets);
      cost.zrangebylex = std::min(cost.zrangebylex, raw.calls("zrangebylex") - ranges);
      cost.scans = std::min(cost.scans, raw.calls("scan") + raw.calls("keys") - scans);
    }
    return cost;
  };
  // Fills a store's namespace with `others` keys around the 100 target keys,
  // pipelined through raw hiredis in the documented layout.
  auto fill = [&](const std::string& prefix, int others) {
    const std::string tag = tag_of(prefix);
    const std::string value = R"({"v":"other"})";
    std::size_t pending = 0;
    for (int i = 0; i < others; i += 1000) {
      std::vector<std::string> zadd = {"ZADD", tag + ":i"};
      std::vector<std::string> mset = {"MSET"};
      for (int j = i; j < std::min(others, i + 1000); ++j) {
        // Half sort before "target", half after.
        std::string key = kvstore::encode_key({j % 2 ? "other" : "zother", std::to_string(j)});
        zadd.push_back("0");
        zadd.push_back(key);
        mset.push_back(tag + ":v:" + key);
        mset.push_back(value);
      }
      raw.append(zadd);
      raw.append(mset);
      pending += 2;
      if (pending >= 40) {
        raw.drain(pending);
        pending = 0;
      }
    }
    raw.drain(pending);
    auto store = kvstore::open(url_with("prefix=" + prefix));
    for (int i = 0; i < 100; ++i) store->set({"target", std::to_string(1000 + i)}, i);
    return store;
  };
  const std::string small_prefix = unique_prefix("scale_small");
  const std::string large_prefix = unique_prefix("scale_large");
  auto small = fill(small_prefix, 900);
  auto large = fill(large_prefix, 200000);
  REQUIRE(raw.integer({"ZCARD", tag_of(large_prefix) + ":i"}) == 200100);
  Cost small_cost = measure(*small);
  Cost large_cost = measure(*large);
  WARN("listing 100 keys: " << small_cost.us_per_entry << " us/entry among 1,000 keys, "
                            << large_cost.us_per_entry << " us/entry among 200,100 keys");
  // Deterministic: the same server-side work, two GETs per listed entry
  // (its value and its metadata key).
  CHECK(small_cost.gets == 200);
  CHECK(large_cost.gets == 200);
  CHECK(small_cost.zrangebylex == large_cost.zrangebylex);
  CHECK(large_cost.scans == 0);
  // Timing: generous, so a busy machine does not make it flaky.
  CHECK(large_cost.us_per_entry < 5 * small_cost.us_per_entry + 5);
  for (const std::string& prefix : {small_prefix, large_prefix}) {
    // Drop the filler quickly (UNLINK frees in the background).
    const std::string tag = tag_of(prefix);
    for (int i = 0; i < 200000; i += 1000) {
      std::vector<std::string> unlink = {"UNLINK"};
      for (int j = i; j < i + 1000; ++j) {
        unlink.push_back(
            tag + ":v:" + kvstore::encode_key({j % 2 ? "other" : "zother", std::to_string(j)}));
      }
      raw.append(unlink);
    }
    raw.drain(200);
    raw.command({"UNLINK", tag + ":i", tag + ":x"});
  }
}

TEST_CASE("redis: credentials and URL forms", "[redis][url]") {
  kvstore::Url url = kvstore::Url::parse(base_url());
  const std::string host = url.host() + ":" + std::to_string(url.port().value_or(6379));
  // Wrong password: permission_denied, and the password is never echoed.
  try {
    open_and_ping("redis://kvstore:sEcReT-xyz@" + host + "/0");
    FAIL("a wrong password was accepted");
  } catch (const kvstore::Error& e) {
    CHECK(e.code() == ErrorCode::permission_denied);
    CHECK(e.native_code() == "WRONGPASS");
    CHECK(std::string(e.what()).find("sEcReT-xyz") == std::string::npos);
  }
  CHECK(error_code_of([&] { open_and_ping("redis://kvstore@" + host + "/0"); }) ==
        ErrorCode::invalid_argument);
  CHECK(error_code_of([&] { open_and_ping("redis://" + host + "/x"); }) ==
        ErrorCode::invalid_argument);
  CHECK(error_code_of([&] { open_and_ping(url_with("pool_size=0")); }) ==
        ErrorCode::invalid_argument);
  CHECK(error_code_of([&] { open_and_ping(url_with("connect_timeout=5")); }) ==
        ErrorCode::invalid_argument);
  CHECK(error_code_of([&] { open_and_ping(url_with("db=1")); }) == ErrorCode::invalid_argument);
  CHECK(error_code_of([&] { open_and_ping("redis+unix:///nonexistent/dir/redis.sock"); }) ==
        ErrorCode::unavailable);
  // Another database through the path: keys there are separate.
  const std::string prefix = unique_prefix("db");
  auto db0 = kvstore::open("redis://kvstore:kvstore@" + host + "/0?prefix=" + prefix);
  auto db1 = kvstore::open("redis://kvstore:kvstore@" + host + "/1?prefix=" + prefix +
                           "&pool_size=2&connect_timeout=500ms&command_timeout=2s");
  db0->set({"k"}, 0);
  db1->set({"k"}, 1);
  CHECK(db0->get({"k"}) == Value(0));
  CHECK(db1->get({"k"}) == Value(1));
  db1->remove({"k"});
  db0->remove({"k"});
}

TEST_CASE("redis: nothing listening gives unavailable within the connect timeout",
          "[redis][errors]") {
  const int port = test_support::unused_loopback_port();
  auto start = std::chrono::steady_clock::now();
  try {
    open_and_ping("redis://127.0.0.1:" + std::to_string(port) + "/0?connect_timeout=500ms");
    FAIL("opened a store where nothing listens");
  } catch (const kvstore::Error& e) {
    CHECK(e.code() == ErrorCode::unavailable);
    CHECK(e.retryable());
  }
  auto elapsed = std::chrono::steady_clock::now() - start;
  WARN(
      "unavailable after " << std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count()
                           << "ms");
  CHECK(elapsed < 5s);
}

TEST_CASE("redis: a server that never answers gives an error within the timeouts",
          "[redis][errors]") {
  // A listening socket nobody accepts on: the TCP handshake completes from the
  // backlog, but no command ever gets a reply.
  test_support::LoopbackListener silent = test_support::listen_on_loopback(1);
  const std::string url = "redis://127.0.0.1:" + std::to_string(silent.port()) +
                          "/0?connect_timeout=500ms&command_timeout=500ms";
  auto start = std::chrono::steady_clock::now();
  ErrorCode code = error_code_of([&] { open_and_ping(url); });
  auto elapsed = std::chrono::steady_clock::now() - start;
  silent.close();
  CHECK((code == ErrorCode::timeout || code == ErrorCode::unavailable));
  WARN("silent server: " << kvstore::to_string(code) << " after "
                         << std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count()
                         << "ms");
  CHECK(elapsed >= 400ms);
  CHECK(elapsed < 5s);
}

TEST_CASE("redis: many threads share a small pool", "[redis][concurrency]") {
  auto store = kvstore::open(url_with("pool_size=2&prefix=" + unique_prefix("pool")));
  std::vector<std::thread> threads;
  std::atomic<int> errors{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      try {
        for (int i = 0; i < 200; ++i) {
          KvKey key{"t", std::to_string(t), std::to_string(i)};
          store->set(key, i);
          if (store->get(key) != Value(i)) ++errors;
        }
      } catch (...) {
        ++errors;
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(errors == 0);
  CHECK(store->list({"t"}).to_vector().size() == 1600);
}

TEST_CASE("redis: a command that gets no reply in time is a timeout, and the store recovers",
          "[redis][restart][serial]") {
  auto store = kvstore::open(url_with("command_timeout=300ms&prefix=" + unique_prefix("pause")));
  store->set({"k"}, 1);
  Raw raw;
  REQUIRE(raw.command({"CLIENT", "PAUSE", "1500", "ALL"})->type == REDIS_REPLY_STATUS);
  auto start = std::chrono::steady_clock::now();
  CHECK(error_code_of([&] { store->get({"k"}); }) == ErrorCode::timeout);
  CHECK(std::chrono::steady_clock::now() - start < 1400ms);
  std::this_thread::sleep_for(1600ms);
  CHECK(store->get({"k"}) == Value(1));
  store->remove({"k"});
}

TEST_CASE("redis: the same store keeps working across a server restart",
          "[redis][restart][serial]") {
  auto store = kvstore::open(url_with("pool_size=4&prefix=" + unique_prefix("restart")));
  // Several pooled connections, all of which the restart breaks.
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) store->set({"warm", std::to_string(t)}, i);
    });
  }
  for (auto& t : threads) t.join();
  store->set({"before"}, 1);
  CHECK(store->get({"before"}) == Value(1));

  services("restart");
  // No persistence: the data is gone, but the store reconnects by itself,
  // and its scripts are loaded again (NOSCRIPT) without an error.
  CHECK_FALSE(store->get({"before"}).has_value());
  store->set({"after"}, 2);
  CHECK(store->get({"after"}) == Value(2));
  CHECK(store->cas({"after"}, Value(2), Value(3)));
  CHECK(store->cas({"new"}, std::nullopt, Value(4)));
  CHECK(store->list().to_vector().size() == 2);

  services("restart");
  // A cas first: not retried blindly, but a dead pooled connection is noticed
  // before the command is sent.
  CHECK(store->cas({"after"}, std::nullopt, Value(5)));
  CHECK(store->get({"after"}) == Value(5));

  // A stopped server: unavailable, quickly, never a hang; then back to work.
  services("stop");
  auto start = std::chrono::steady_clock::now();
  CHECK(error_code_of([&] { store->get({"after"}); }) == ErrorCode::unavailable);
  CHECK(error_code_of([&] { store->set({"after"}, 6); }) == ErrorCode::unavailable);
  CHECK(std::chrono::steady_clock::now() - start < 5s);
  services("start");
  store->set({"after"}, 7);
  CHECK(store->get({"after"}) == Value(7));
}

TEST_CASE("redis: configuration errors are never retryable", "[redis][url][errors]") {
  kvstore::Url url = kvstore::Url::parse(base_url());
  const std::string host = url.host() + ":" + std::to_string(url.port().value_or(6379));
  // The server has databases 0..15: 16 is a wrong URL, not a passing outage.
  kvstore::Error db = error_of([&] { open_and_ping("redis://kvstore:kvstore@" + host + "/16"); });
  INFO(db.what());
  CHECK(db.code() == ErrorCode::invalid_argument);
  CHECK(db.native_code() == "ERR");
  CHECK_FALSE(db.retryable());
  CHECK(contains(db.what(), "database 16 does not exist"));
  CHECK(contains(db.what(), "DB index is out of range"));

  OwnRedis own;
  // A password for a default user that has none.
  kvstore::Error unneeded =
      error_of([&] { open_and_ping("redis://:sEcReT-pw@" + own.host() + "/0"); });
  INFO(unneeded.what());
  CHECK(unneeded.code() == ErrorCode::permission_denied);
  CHECK(unneeded.native_code() == "ERR");
  CHECK_FALSE(unneeded.retryable());
  CHECK(contains(unneeded.what(), "no password set for the default user"));
  CHECK_FALSE(contains(unneeded.what(), "sEcReT-pw"));
  // WRONGPASS: a user that exists with another password, or does not exist.
  for (const char* credentials : {"kvstore:wRoNg-pw", "nobody:wRoNg-pw"}) {
    kvstore::Error wrong =
        error_of([&] { open_and_ping(std::string("redis://") + credentials + "@" + own.host()); });
    INFO(wrong.what());
    CHECK(wrong.code() == ErrorCode::permission_denied);
    CHECK(wrong.native_code() == "WRONGPASS");
    CHECK_FALSE(wrong.outcome_unknown());
    CHECK_FALSE(wrong.retryable());
    CHECK(contains(wrong.what(), "WRONGPASS"));
    CHECK_FALSE(contains(wrong.what(), "wRoNg-pw"));
  }
  // NOAUTH: no password where the server wants one, refused at SELECT (a
  // handshake) and at SCRIPT LOAD (the first command of db 0).
  REQUIRE(own.command({"CONFIG", "SET", "requirepass", "nEeDeD-pw"}) == REDIS_REPLY_STATUS);
  for (const char* path : {"/1", "/0"}) {
    kvstore::Error noauth = error_of([&] { open_and_ping("redis://" + own.host() + path); });
    INFO(noauth.what());
    CHECK(noauth.code() == ErrorCode::permission_denied);
    CHECK(noauth.native_code() == "NOAUTH");
    CHECK_FALSE(noauth.retryable());
    CHECK(contains(noauth.what(), "NOAUTH"));
  }
  auto works =
      kvstore::open("redis://:nEeDeD-pw@" + own.host() + "/1?prefix=" + unique_prefix("auth"));
  works->set({"k"}, 1);
  CHECK(works->get({"k"}) == Value(1));
}

TEST_CASE("redis: a stopped server's errors say what happened", "[redis][errors]") {
  OwnRedis own;
  const std::string url =
      "redis://kvstore:kvstore@" + own.host() +
      "/0?connect_timeout=300ms&command_timeout=300ms&pool_size=1&prefix=" + unique_prefix("stop");
  const std::string redacted = kvstore::Url::parse(url).redacted();
  REQUIRE(contains(redacted, "redis://kvstore:***@" + own.host() + "/0?"));
  auto store = kvstore::open(url);
  store->set({"k"}, 1);

  own.pause();  // SIGSTOP: connections are accepted by the kernel, never answered
  auto start = std::chrono::steady_clock::now();
  kvstore::Error get = error_of([&] { store->get({"k"}); });
  const long long get_ms = ms_since(start);
  INFO(get.what());
  WARN("GET on a stopped server: " << get.what() << " after " << get_ms << " ms");
  CHECK(get.code() == ErrorCode::timeout);
  CHECK(get.retryable());
  CHECK(contains(get.what(),
                 "timed out waiting for the reply to GET from " + redacted + " after 300 ms"));
  CHECK(get_ms >= 250);
  CHECK(get_ms < 2000);
  // The timed-out connection was dropped: the next call connects anew, and
  // its AUTH gets no reply.
  start = std::chrono::steady_clock::now();
  kvstore::Error auth = error_of([&] { store->set({"k"}, 2); });
  const long long auth_ms = ms_since(start);
  INFO(auth.what());
  WARN("a new connection to a stopped server: " << auth.what() << " after " << auth_ms << " ms");
  CHECK(auth.code() == ErrorCode::timeout);
  CHECK(auth.retryable());
  CHECK(contains(auth.what(),
                 "timed out waiting for the reply to AUTH from " + redacted + " after 300 ms"));
  CHECK(auth_ms < 2000);
  const std::string plain =
      "redis://" + own.host() + "/0?connect_timeout=300ms&command_timeout=300ms";
  kvstore::Error load = error_of([&] { open_and_ping(plain); });
  INFO(load.what());
  CHECK(load.code() == ErrorCode::timeout);
  CHECK(contains(load.what(),
                 "timed out waiting for the reply to SCRIPT LOAD from " + plain + " after 300 ms"));
  for (const kvstore::Error* e : {&get, &auth, &load}) {
    CHECK_FALSE(contains(e->what(), "Resource temporarily unavailable"));
    CHECK_FALSE(contains(e->what(), "kvstore:kvstore"));
  }

  own.resume();
  CHECK(store->get({"k"}) == Value(1));

  own.stop();  // now nothing listens: a reused connection breaks, a new one is refused
  kvstore::Error refused = error_of([&] { store->get({"k"}); });
  INFO(refused.what());
  CHECK(refused.code() == ErrorCode::unavailable);
  CHECK(refused.retryable());
  CHECK(contains(refused.what(), "cannot connect to " + redacted + ": connection refused"));
  CHECK_FALSE(contains(refused.what(), "Connection refused"));
}

TEST_CASE("redis: a connect that gets no answer is a timeout that says so", "[redis][errors]") {
  // A listener whose accept queue is full: Linux drops further SYNs, so a
  // connect gets no answer at all, as from a host that is down.
  test_support::LoopbackListener full = test_support::listen_on_loopback(0);
  std::vector<int> fillers;
  for (int i = 0; i < 3; ++i) {
    int filler = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    REQUIRE(filler >= 0);
    ::connect(filler, reinterpret_cast<const sockaddr*>(&full.address()), sizeof full.address());
    fillers.push_back(filler);
  }
  std::this_thread::sleep_for(50ms);
  const std::string host = "127.0.0.1:" + std::to_string(full.port());
  const std::string url = "redis://:sEcReT@" + host + "/0?connect_timeout=300ms";
  auto start = std::chrono::steady_clock::now();
  kvstore::Error e = error_of([&] { open_and_ping(url); });
  const long long elapsed = ms_since(start);
  for (int filler : fillers) ::close(filler);
  full.close();
  INFO(e.what());
  WARN("unanswered connect: " << e.what() << " (measured " << elapsed << " ms)");
  CHECK(e.code() == ErrorCode::timeout);
  CHECK(e.retryable());
  CHECK(contains(e.what(),
                 "timed out connecting to " + kvstore::Url::parse(url).redacted() + " after "));
  CHECK(contains(e.what(), "connect_timeout=300 ms"));
  CHECK_FALSE(contains(e.what(), "sEcReT"));
  CHECK_FALSE(contains(e.what(), "Connection timed out"));
  CHECK(elapsed >= 250);
  CHECK(elapsed < 2000);
}

TEST_CASE("redis: duration parameters have ranges, checked before any I/O", "[redis][url]") {
  // Nothing listens here: a parameter error must come before any connect.
  const std::string nowhere =
      "redis://127.0.0.1:" + std::to_string(test_support::unused_loopback_port()) + "/0?";
  for (const char* bad :
       {"command_timeout=99999999999h", "connect_timeout=99999999999h", "command_timeout=2h",
        "connect_timeout=3601s", "command_timeout=0", "connect_timeout=0"}) {
    kvstore::Error e = error_of([&] { open_and_ping(nowhere + bad); });
    INFO(bad << ": " << e.what());
    CHECK(e.code() == ErrorCode::invalid_argument);
    CHECK_FALSE(e.retryable());
  }
  // The bounds themselves are accepted.
  auto store = kvstore::open(
      url_with("connect_timeout=1h&command_timeout=1h&prefix=" + unique_prefix("bounds")));
  store->set({"k"}, 1);
  CHECK(store->get({"k"}) == Value(1));
  store->remove({"k"});
}

TEST_CASE("redis: a TTL of kMaxTtl is stored exactly", "[redis][ttl]") {
  const std::string prefix = unique_prefix("maxttl");
  auto store = kvstore::open(url_with("prefix=" + prefix));
  Raw raw;
  const std::string tag = tag_of(prefix);
  const std::string encoded = kvstore::encode_key({"far"});
  Reply time = raw.command({"TIME"});
  REQUIRE(time->type == REDIS_REPLY_ARRAY);
  const long long before_ms =
      std::stoll(time->element[0]->str) * 1000 + std::stoll(time->element[1]->str) / 1000;
  store->set({"far"}, "f", {kvstore::kMaxTtl});
  const long long max_ms = kvstore::kMaxTtl.count();
  const long long pttl = raw.integer({"PTTL", tag + ":v:" + encoded});
  CHECK(pttl <= max_ms);
  CHECK(pttl > max_ms - 5000);
  // The expiry set's score is the server's now plus the TTL, to the millisecond.
  Reply score = raw.command({"ZSCORE", tag + ":x", encoded});
  REQUIRE(score->type == REDIS_REPLY_STRING);
  const long long expires_ms = std::stoll(std::string(score->str, score->len));
  CHECK(expires_ms >= before_ms + max_ms);
  CHECK(expires_ms < before_ms + max_ms + 5000);
  CHECK(store->get({"far"}) == Value("f"));
  CHECK(store->cas({"far"}, Value("f"), Value("g"), {kvstore::kMaxTtl}));
  CHECK(store->get({"far"}) == Value("g"));
  store->remove({"far"});
}

TEST_CASE("redis: errors carry the server's error prefix as native_code", "[redis][errors]") {
  const std::string prefix = unique_prefix("native");
  auto store = kvstore::open(url_with("prefix=" + prefix));
  store->set({"k"}, 1);
  // Something other than kvstore wrote the value key: a list, not a string.
  Raw raw;
  const std::string vkey = tag_of(prefix) + ":v:" + kvstore::encode_key({"k"});
  raw.integer({"DEL", vkey});
  raw.integer({"RPUSH", vkey, "x"});
  kvstore::Error get = error_of([&] { store->get({"k"}); });
  INFO(get.what());
  CHECK(get.code() == ErrorCode::corrupt);
  CHECK(get.native_code() == "WRONGTYPE");
  CHECK_FALSE(get.retryable());
  CHECK_FALSE(get.outcome_unknown());
  // Inside the write script too; a cas that got an error reply did not
  // happen, so its outcome is known.
  kvstore::Error cas = error_of([&] { store->cas({"k"}, Value(1), Value(2)); });
  INFO(cas.what());
  CHECK(cas.code() == ErrorCode::corrupt);
  CHECK(cas.native_code() == "WRONGTYPE");
  CHECK_FALSE(cas.outcome_unknown());
  // kvstore's own errors have none.
  kvstore::Error empty = error_of([&] { store->get({}); });
  CHECK(empty.native_code().empty());
  raw.integer({"DEL", vkey});
  store->remove({"k"});
}

TEST_CASE("redis: a cas whose reply is lost has an unknown outcome", "[redis][errors]") {
  OwnRedis own;
  auto store = kvstore::open("redis://kvstore:kvstore@" + own.host() +
                             "/0?command_timeout=300ms&connect_timeout=300ms&pool_size=1&prefix=" +
                             unique_prefix("unknown"));
  store->set({"k"}, 1);
  own.pause();  // the request reaches the server's socket, no reply comes
  kvstore::Error cas = error_of([&] { store->cas({"k"}, Value(1), Value(2)); });
  INFO(cas.what());
  CHECK(cas.code() == ErrorCode::timeout);
  CHECK(cas.outcome_unknown());
  CHECK(cas.retryable());
  CHECK(cas.native_code().empty());
  // A plain set that times out may be repeated: its outcome is not "unknown".
  kvstore::Error set = error_of([&] { store->set({"other"}, 1); });
  INFO(set.what());
  CHECK(set.code() == ErrorCode::timeout);
  CHECK_FALSE(set.outcome_unknown());
  own.resume();
  // The server reads the swap it was sent and applies it: it really was
  // unknown, not failed.
  std::optional<Value> seen;
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (std::chrono::steady_clock::now() < deadline) {
    seen = store->get({"k"});
    if (seen == Value(2)) break;
    std::this_thread::sleep_for(20ms);
  }
  CHECK(seen == Value(2));
}

TEST_CASE("redis: pool_timeout bounds the wait for a free connection", "[redis][errors]") {
  OwnRedis own;
  auto store = kvstore::open("redis://kvstore:kvstore@" + own.host() +
                             "/0?command_timeout=3s&pool_size=1&pool_timeout=200ms&prefix=" +
                             unique_prefix("pooltimeout"));
  store->set({"k"}, 1);
  own.pause();
  std::thread busy([&] {
    // Holds the only connection until the server resumes and answers.
    try {
      (void)store->get({"k"});
    } catch (const kvstore::Error&) {
    }
  });
  std::this_thread::sleep_for(300ms);
  const auto start = std::chrono::steady_clock::now();
  kvstore::Error wait = error_of([&] { store->get({"k"}); });
  const long long waited = ms_since(start);
  own.resume();
  busy.join();
  INFO(wait.what());
  CHECK(wait.code() == ErrorCode::timeout);
  CHECK(wait.retryable());
  CHECK(contains(wait.what(), "pool_timeout (200ms)"));
  CHECK(waited >= 150);
  CHECK(waited < 2000);
  CHECK(store->get({"k"}) == Value(1));
}

TEST_CASE("redis: a store built from typed Options", "[redis][url]") {
  OwnRedis own;
  const std::string password = "p@ss:w/rd";
  REQUIRE(own.command({"ACL", "SETUSER", "typed", "on", ">" + password, "~*", "&*", "+@all"}) ==
          REDIS_REPLY_STATUS);
  kvstore::redis::Options options;
  options.host = "127.0.0.1";
  options.port = static_cast<std::uint16_t>(own.port());
  options.user = "typed";
  options.password = password;  // plain text, no percent-encoding
  options.prefix = unique_prefix("typed");
  options.pool_size = 2;
  options.command_timeout = 2s;
  auto store = kvstore::redis::create(options);
  store->ping();
  store->set({"a", "b"}, Value{{"x", 1}}, {10s});
  CHECK(store->get({"a", "b"}) == Value{{"x", 1}});
  CHECK(store->cas({"a", "b"}, Value{{"x", 1}}, Value(2)));
  CHECK(store->list({"a"}).to_vector().size() == 1);

  // The same options from a URL, the password percent-encoded there.
  const std::string url = "redis://typed:p%40ss%3Aw%2Frd@" + own.host() +
                          "/0?prefix=" + options.prefix + "&pool_size=2&command_timeout=2s";
  kvstore::redis::Options parsed = kvstore::redis::Options::from_url(url);
  CHECK(parsed.password == password);
  CHECK(parsed.user == options.user);
  CHECK(parsed.port == options.port);
  CHECK(parsed.prefix == options.prefix);
  CHECK(kvstore::open(url)->get({"a", "b"}) == Value(2));

  // A wrong typed password: refused, and never quoted.
  options.password = "wRoNg@pw";
  kvstore::Error wrong = error_of([&] { kvstore::redis::create(options)->ping(); });
  INFO(wrong.what());
  CHECK(wrong.code() == ErrorCode::permission_denied);
  CHECK(wrong.native_code() == "WRONGPASS");
  CHECK(contains(wrong.what(), "redis://typed:***@" + own.host() + "/0"));
  CHECK_FALSE(contains(wrong.what(), "wRoNg"));

  // create() does no I/O: a store for a server that is not there is made,
  // and its first call says so.
  own.stop();
  options.password = password;
  auto absent = kvstore::redis::create(options);
  CHECK(error_code_of([&] { absent->ping(); }) == ErrorCode::unavailable);
}

namespace {

long long info_stat(Raw& raw, const std::string& name) {
  Reply reply = raw.command({"INFO", "stats"});
  const std::string text(reply->str, reply->len);
  const std::size_t at = text.find(name + ":");
  if (at == std::string::npos) FAIL("INFO stats has no " << name);
  return std::stoll(text.substr(at + name.size() + 1));
}

std::vector<KvKey> bulk_keys(const std::string& first, int n) {
  std::vector<KvKey> keys;
  for (int i = 0; i < n; ++i) keys.push_back({first, std::to_string(100000 + i)});
  return keys;
}

}  // namespace

TEST_CASE("redis: set_many and remove_many keep the index and the expiry set in step",
          "[redis][bulk]") {
  const std::string prefix = unique_prefix("bulk_layout");
  const std::string tag = tag_of(prefix);
  auto store = kvstore::open(url_with("prefix=" + prefix));
  Raw raw;
  // 2,500 entries: more than one pipelined batch. Every other one expires.
  const std::vector<KvKey> keys = bulk_keys("b", 2500);
  std::vector<kvstore::SetEntry> entries;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    kvstore::SetEntry entry{keys[i], static_cast<int>(i)};
    if (i % 2 == 1) entry.options.ttl = 60s + std::chrono::milliseconds(i);
    entries.push_back(entry);
  }
  store->set_many(entries);
  CHECK(raw.integer({"ZCARD", tag + ":i"}) == 2500);
  CHECK(raw.integer({"ZCARD", tag + ":x"}) == 1250);
  const std::string last_key = tag + ":v:" + kvstore::encode_key(keys[2499]);
  CHECK(raw.integer({"PTTL", last_key}) > 60000);
  CHECK(raw.integer({"PTTL", last_key}) <= 62499);
  CHECK(raw.integer({"PTTL", tag + ":v:" + kvstore::encode_key(keys[0])}) == -1);
  std::vector<kvstore::Entry> listed = store->list({"b"}).to_vector();
  REQUIRE(listed.size() == 2500);
  for (std::size_t i = 0; i < listed.size(); ++i) {
    CHECK(listed[i].key == keys[i]);
    CHECK(listed[i].value == Value(static_cast<int>(i)));
  }

  // Rewritten without TTLs: every entry is permanent, the expiry set empty.
  for (kvstore::SetEntry& entry : entries) entry.options.ttl.reset();
  store->set_many(entries);
  CHECK(raw.integer({"ZCARD", tag + ":x"}) == 0);
  CHECK(raw.integer({"PTTL", last_key}) == -1);

  // Half removed, plus keys that never existed.
  std::vector<KvKey> gone(keys.begin(), keys.begin() + 1250);
  gone.push_back({"never", "there"});
  store->remove_many(gone);
  CHECK(raw.integer({"ZCARD", tag + ":i"}) == 1250);
  CHECK(store->list({"b"}).to_vector().size() == 1250);
  const auto values = store->get_many(keys);
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (i < 1250) {
      CHECK_FALSE(values[i].has_value());
    } else {
      CHECK(values[i] == Value(static_cast<int>(i)));
    }
  }
  store->remove_many(keys);
  CHECK(raw.integer({"EXISTS", tag + ":i", tag + ":x", last_key}) == 0);
}

TEST_CASE("redis: bulk calls go in bounded batches, each one round trip", "[redis][bulk][serial]") {
  const std::string prefix = unique_prefix("bulk_batches");
  auto store = kvstore::open(url_with("prefix=" + prefix + "&pool_size=1"));
  Raw raw;
  store->ping();

  SECTION("a batch is one request: the server reads it at once") {
    // 30 small entries (about 10 KB of request) fit in one of the server's
    // 16 KiB reads; 30 single calls take 30. The
    // counters are server-wide, so the least seen over several runs is the
    // call's own (another client only adds).
    const std::vector<KvKey> keys = bulk_keys("r", 30);
    std::vector<kvstore::SetEntry> entries;
    for (const KvKey& key : keys) entries.push_back({key, 1});
    long long bulk_reads = 1LL << 60, single_reads = 1LL << 60;
    for (int run = 0; run < 5; ++run) {
      long long before = info_stat(raw, "total_reads_processed");
      store->set_many(entries);
      (void)store->get_many(keys);
      store->remove_many(keys);
      bulk_reads = std::min(bulk_reads, info_stat(raw, "total_reads_processed") - before);
      before = info_stat(raw, "total_reads_processed");
      for (const KvKey& key : keys) store->set(key, 1);
      single_reads = std::min(single_reads, info_stat(raw, "total_reads_processed") - before);
      store->remove_many(keys);
    }
    INFO("bulk: " << bulk_reads << " reads, 30 sets: " << single_reads << " reads");
    // Three bulk calls plus the INFO that reads the counter.
    CHECK(bulk_reads <= 6);
    CHECK(single_reads >= 30);
  }

  SECTION("MGET batches hold at most 1,000 keys and about 1 MiB") {
    // 2,500 short keys: three MGETs by count. 2,000 keys of 1,000 bytes
    // (2 MB of request): split by size, not count.
    const std::vector<KvKey> shorts = bulk_keys("s", 2500);
    std::vector<KvKey> longs;
    for (int i = 0; i < 2000; ++i)
      longs.push_back({"l", std::string(994, 'k') + std::to_string(100000 + i)});
    std::vector<kvstore::SetEntry> entries;
    for (int i = 0; i < 2500; i += 2) entries.push_back({shorts[static_cast<std::size_t>(i)], i});
    for (int i = 0; i < 2000; i += 3) entries.push_back({longs[static_cast<std::size_t>(i)], i});
    const long long evalsha = raw.calls("evalsha");
    store->set_many(entries);
    CHECK(raw.calls("evalsha") - evalsha >= static_cast<long long>(entries.size()));
    const long long mget = raw.calls("mget"), get = raw.calls("get");
    const auto short_values = store->get_many(shorts);
    const long long short_mgets = raw.calls("mget") - mget;
    const auto long_values = store->get_many(longs);
    const long long long_mgets = raw.calls("mget") - mget - short_mgets;
    CHECK(raw.calls("get") == get);
    CHECK(short_mgets == 3);
    CHECK(long_mgets >= 3);
    CHECK(long_mgets <= 4);
    for (std::size_t i = 0; i < shorts.size(); ++i) {
      if (i % 2 == 0) {
        CHECK(short_values[i] == Value(static_cast<int>(i)));
      } else {
        CHECK_FALSE(short_values[i].has_value());
      }
    }
    for (std::size_t i = 0; i < longs.size(); ++i) {
      if (i % 3 == 0) {
        CHECK(long_values[i] == Value(static_cast<int>(i)));
      } else {
        CHECK_FALSE(long_values[i].has_value());
      }
    }
    store->remove_many(shorts);
    store->remove_many(longs);
    CHECK(store->list().to_vector().empty());
  }

  SECTION("values larger than a batch go alone and come back whole") {
    // 40 values of 100 KiB and one of 2 MiB: several pipelined batches.
    std::vector<kvstore::SetEntry> entries;
    std::vector<KvKey> keys;
    for (int i = 0; i < 41; ++i) {
      const std::size_t size = i == 20 ? (2u << 20) : (100u << 10);
      keys.push_back({"big", std::to_string(100 + i)});
      entries.push_back({keys.back(), std::string(size, static_cast<char>('a' + i % 26))});
    }
    store->set_many(entries);
    const auto values = store->get_many(keys);
    REQUIRE(values.size() == keys.size());
    for (std::size_t i = 0; i < keys.size(); ++i) CHECK(values[i] == entries[i].value);
    store->remove_many(keys);
    CHECK(store->list().to_vector().empty());
  }

  SECTION("bulk writes reload the script after SCRIPT FLUSH, with one EVAL") {
    const std::vector<KvKey> keys = bulk_keys("f", 30);
    std::vector<kvstore::SetEntry> entries;
    for (const KvKey& key : keys) entries.push_back({key, "v"});
    REQUIRE(raw.command({"SCRIPT", "FLUSH"})->type == REDIS_REPLY_STATUS);
    const long long eval = raw.calls("eval");
    store->set_many(entries);
    CHECK(raw.calls("eval") - eval == 1);
    for (const auto& value : store->get_many(keys)) CHECK(value == Value("v"));
    REQUIRE(raw.command({"SCRIPT", "FLUSH"})->type == REDIS_REPLY_STATUS);
    store->remove_many(keys);
    CHECK(raw.calls("eval") - eval == 2);
    CHECK(store->list().to_vector().empty());
  }
}

TEST_CASE(
    "redis: an error reply in a bulk write is the call's error, and the connection stays "
    "in step",
    "[redis][bulk][errors]") {
  const std::string prefix = unique_prefix("bulk_error");
  const std::string tag = tag_of(prefix);
  // One connection: the calls after the failure reuse the one it happened on.
  auto store = kvstore::open(url_with("prefix=" + prefix + "&pool_size=1"));
  Raw raw;
  const std::vector<KvKey> keys = bulk_keys("e", 20);
  std::vector<kvstore::SetEntry> entries;
  for (const KvKey& key : keys) entries.push_back({key, 1});
  store->set_many(entries);
  // Something else wrote the index: every script's ZADD/ZREM fails.
  raw.integer({"DEL", tag + ":i"});
  REQUIRE(raw.command({"SET", tag + ":i", "x"})->type == REDIS_REPLY_STATUS);
  for (int call = 0; call < 2; ++call) {
    kvstore::Error e = error_of([&] {
      if (call == 0)
        store->set_many(entries);
      else
        store->remove_many(keys);
    });
    INFO(e.what());
    CHECK(e.code() == ErrorCode::corrupt);
    CHECK(e.native_code() == "WRONGTYPE");
    CHECK_FALSE(e.retryable());
    CHECK_FALSE(e.outcome_unknown());  // a reply came: nothing is unknown
  }
  raw.integer({"DEL", tag + ":i"});
  // The same connection answers the next calls with their own replies.
  std::vector<kvstore::SetEntry> second;
  for (std::size_t i = 0; i < keys.size(); ++i) second.push_back({keys[i], static_cast<int>(i)});
  store->set_many(second);
  const auto values = store->get_many(keys);
  for (std::size_t i = 0; i < keys.size(); ++i) CHECK(values[i] == Value(static_cast<int>(i)));
  CHECK(store->get(keys[3]) == Value(3));
  store->remove_many(keys);
  CHECK(store->list().to_vector().empty());
}

namespace {

// Milliseconds since the Unix epoch of a system-clock time.
long long unix_ms(kvstore::Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

// A whole-millisecond time `ahead` from now.
kvstore::Clock::time_point ms_from_now(std::chrono::milliseconds ahead) {
  return std::chrono::time_point_cast<std::chrono::milliseconds>(kvstore::Clock::now() + ahead);
}

// The write script of layout version 1 (drivers/redis/src/redis_scripts.h at
// a2f674f, before metadata), verbatim: the upgrade tests write their store
// with it, exactly as that release did.
constexpr const char* kVersion1WriteScript = R"lua(
local vkey, idx, exp = KEYS[1], KEYS[2], KEYS[3]
local member, expect = ARGV[1], ARGV[2]
if expect ~= 'n' then
  local cur = redis.call('GET', vkey)
  if expect == 'a' then
    if cur then return 0 end
  elseif cur ~= ARGV[3] then
    return 0
  end
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if ARGV[4] == 's' then
  if ARGV[6] == '' then
    redis.call('SET', vkey, ARGV[5])
    redis.call('ZREM', exp, member)
  else
    redis.call('SET', vkey, ARGV[5], 'PX', ARGV[6])
    redis.call('ZADD', exp, string.format('%.0f', now + tonumber(ARGV[6])), member)
  end
  redis.call('ZADD', idx, 0, member)
else
  redis.call('DEL', vkey)
  redis.call('ZREM', idx, member)
  redis.call('ZREM', exp, member)
end
local due = redis.call('ZRANGEBYSCORE', exp, '-inf', string.format('%.0f', now - 1000),
                       'LIMIT', 0, 16)
for _, m in ipairs(due) do
  local left = redis.call('PTTL', ARGV[7] .. m)
  if left == -2 then
    redis.call('ZREM', idx, m)
    redis.call('ZREM', exp, m)
  elseif left == -1 then
    redis.call('ZREM', exp, m)
  else
    redis.call('ZADD', exp, string.format('%.0f', now + left), m)
  end
end
return 1
)lua";

// Writes `value` at `key` in the version-1 layout of `prefix` (ttl_ms "" for
// none), through the version-1 script.
void write_version1(Raw& raw, const std::string& prefix, const KvKey& key, const std::string& value,
                    const std::string& ttl_ms) {
  const std::string tag = tag_of(prefix);
  const std::string encoded = kvstore::encode_key(key);
  CHECK(raw.integer({"EVAL", kVersion1WriteScript, "3", tag + ":v:" + encoded, tag + ":i",
                     tag + ":x", encoded, "n", "", "s", value, ttl_ms, tag + ":v:"}) == 1);
}

}  // namespace

TEST_CASE("redis: metadata and expires_at in the documented layout", "[redis][metadata]") {
  const std::string prefix = unique_prefix("meta");
  auto store = kvstore::open(url_with("prefix=" + prefix));
  Raw raw;
  const std::string tag = tag_of(prefix);
  const KvKey key{"docs", "a"};
  const std::string encoded = kvstore::encode_key(key);
  const std::string vkey = tag + ":v:" + encoded;
  const std::string mkey = tag + ":m:" + encoded;
  auto raw_text = [&](const std::string& k) -> std::optional<std::string> {
    Reply reply = raw.command({"GET", k});
    if (reply->type == REDIS_REPLY_NIL) return std::nullopt;
    REQUIRE(reply->type == REDIS_REPLY_STRING);
    return std::string(reply->str, reply->len);
  };

  SECTION("an absolute expiry is the PXAT of both keys and the expiry score") {
    const auto at = ms_from_now(1h);
    store->set(key, Value{{"n", 1}},
               {.ttl = std::nullopt, .expires_at = at, .metadata = Value{{"tag", "x"}}});
    CHECK(raw_text(vkey) == std::optional<std::string>(R"({"n":1})"));
    CHECK(raw_text(mkey) == std::optional<std::string>(R"({"tag":"x"})"));
    CHECK(raw.integer({"PEXPIRETIME", vkey}) == unix_ms(at));
    CHECK(raw.integer({"PEXPIRETIME", mkey}) == unix_ms(at));
    Reply score = raw.command({"ZSCORE", tag + ":x", encoded});
    REQUIRE(score->type == REDIS_REPLY_STRING);
    CHECK(std::stoll(std::string(score->str, score->len)) == unix_ms(at));
    auto entry = store->get_entry(key);
    REQUIRE(entry);
    CHECK(entry->value == Value{{"n", 1}});
    CHECK(entry->metadata == std::optional<Value>(Value{{"tag", "x"}}));
    CHECK(entry->expires_at == std::optional<kvstore::Clock::time_point>(at));
    auto keys = store->list_keys({"docs"}).to_vector();
    REQUIRE(keys.size() == 1);
    CHECK(keys[0].metadata == entry->metadata);
    CHECK(keys[0].expires_at == entry->expires_at);
    auto listed = store->list({"docs"}).to_vector();
    REQUIRE(listed.size() == 1);
    CHECK(listed[0].metadata == entry->metadata);
    CHECK(listed[0].expires_at == entry->expires_at);
  }

  SECTION("a TTL is reported as the server's TIME plus the TTL, on both keys") {
    Reply time = raw.command({"TIME"});
    REQUIRE(time->type == REDIS_REPLY_ARRAY);
    const long long before =
        std::stoll(time->element[0]->str) * 1000 + std::stoll(time->element[1]->str) / 1000;
    store->set(key, 1, {.ttl = 60s, .metadata = Value(7)});
    auto entry = store->get_entry(key);
    REQUIRE(entry);
    REQUIRE(entry->expires_at);
    const long long at = unix_ms(*entry->expires_at);
    CHECK(at >= before + 60000);
    CHECK(at <= before + 60000 + 5000);
    CHECK(raw.integer({"PEXPIRETIME", vkey}) == at);
    CHECK(raw.integer({"PEXPIRETIME", mkey}) == at);
  }

  SECTION("null metadata is metadata, absent is none, and each write replaces it") {
    store->set(key, 1, {.ttl = std::nullopt, .metadata = Value(nullptr)});
    CHECK(raw_text(mkey) == std::optional<std::string>("null"));
    auto entry = store->get_entry(key);
    REQUIRE(entry);
    REQUIRE(entry->metadata.has_value());
    CHECK(entry->metadata->is_null());
    CHECK(entry->expires_at == std::nullopt);
    CHECK(raw.integer({"PTTL", mkey}) == -1);
    store->set(key, 2);  // no metadata: the old one goes
    CHECK(raw.integer({"EXISTS", mkey}) == 0);
    entry = store->get_entry(key);
    REQUIRE(entry);
    CHECK(entry->metadata == std::nullopt);
    CHECK(store->list_keys({"docs"}).to_vector().at(0).metadata == std::nullopt);
    store->set(key, 3, {.ttl = 1h, .metadata = Value("m")});
    store->set(key, 4,
               {.ttl = std::nullopt, .metadata = Value("p")});  // permanent again, on both keys
    CHECK(raw.integer({"PTTL", vkey}) == -1);
    CHECK(raw.integer({"PTTL", mkey}) == -1);
    CHECK(raw.integer({"ZCARD", tag + ":x"}) == 0);
    store->remove(key);
    CHECK(raw.integer({"EXISTS", vkey, mkey, tag + ":i", tag + ":x"}) == 0);
  }

  SECTION("cas: a failed swap changes nothing, a swap replaces metadata and expiry") {
    const auto at = ms_from_now(2h);
    store->set(key, 1, {.ttl = std::nullopt, .expires_at = at, .metadata = Value("first")});
    CHECK_FALSE(
        store->cas(key, Value(99), Value(2), {.ttl = std::nullopt, .metadata = Value("lost")}));
    auto entry = store->get_entry(key);
    REQUIRE(entry);
    CHECK(entry->metadata == std::optional<Value>(Value("first")));
    CHECK(entry->expires_at == std::optional<kvstore::Clock::time_point>(at));
    CHECK(store->cas(key, Value(1), Value(2), {.ttl = std::nullopt, .metadata = Value("second")}));
    entry = store->get_entry(key);
    REQUIRE(entry);
    CHECK(entry->value == Value(2));
    CHECK(entry->metadata == std::optional<Value>(Value("second")));
    CHECK(entry->expires_at == std::nullopt);
    CHECK(raw.integer({"PTTL", mkey}) == -1);
    CHECK(store->cas(key, Value(2), std::nullopt));
    CHECK(raw.integer({"EXISTS", vkey, mkey}) == 0);
  }

  SECTION("set_many carries metadata and expires_at through the pipeline, after SCRIPT FLUSH") {
    const auto at = ms_from_now(3h);
    std::vector<kvstore::SetEntry> entries;
    for (int i = 0; i < 1500; ++i) {  // two pipelined batches
      kvstore::SetOptions options;
      if (i % 3 == 0) options.expires_at = at;
      if (i % 3 == 1) options.ttl = 1h;
      if (i % 2 == 0) options.metadata = Value{{"i", i}};
      entries.push_back({{"bulk", std::to_string(10000 + i)}, i, options});
    }
    REQUIRE(raw.command({"SCRIPT", "FLUSH"})->type == REDIS_REPLY_STATUS);
    store->set_many(entries);
    auto keys = store->list_keys({"bulk"}).to_vector();
    REQUIRE(keys.size() == entries.size());
    for (std::size_t i = 0; i < keys.size(); ++i) {
      INFO(i);
      CHECK(keys[i].key == entries[i].key);
      CHECK(keys[i].metadata == entries[i].options.metadata);
      if (i % 3 == 0) CHECK(keys[i].expires_at == std::optional<kvstore::Clock::time_point>(at));
      if (i % 3 == 1) CHECK(keys[i].expires_at.has_value());
      if (i % 3 == 2) CHECK(keys[i].expires_at == std::nullopt);
    }
  }

  SECTION("an expires_at that passed before the script ran deletes the entry") {
    store->set(key, 1, {.ttl = std::nullopt, .metadata = Value(1)});
    // The core only lets through times ahead of its clock, so the driver is
    // called directly with one that has passed (a slow network, skew).
    kvstore::Url url = kvstore::Url::parse(url_with("prefix=" + prefix));
    std::unique_ptr<kvstore::Driver> driver = kvstore::redis::open(url);
    kvstore::StoredOptions past;
    past.expires_at = ms_from_now(-1s);
    past.metadata = "2";
    driver->do_set(encoded, "2", past);
    CHECK_FALSE(store->get_entry(key));
    CHECK(raw.integer({"EXISTS", vkey, mkey, tag + ":i", tag + ":x"}) == 0);
    CHECK(driver->do_swap(encoded, std::nullopt, "3", past));
    CHECK_FALSE(store->get(key));
    CHECK(raw.integer({"EXISTS", vkey, mkey, tag + ":i", tag + ":x"}) == 0);
  }
}

TEST_CASE("redis: a version-1 store is upgraded in place", "[redis][upgrade]") {
  const std::string prefix = unique_prefix("v1");
  const std::string tag = tag_of(prefix);
  Raw raw;
  write_version1(raw, prefix, {"a"}, R"({"x":1})", "");
  write_version1(raw, prefix, {"a", "b"}, "[1,2,3]", "600000");
  write_version1(raw, prefix, {"c"}, "null", "");
  write_version1(raw, prefix, {"d"}, "\"gone\"", "1");  // expires before the upgrade
  std::this_thread::sleep_for(10ms);
  REQUIRE(raw.integer({"EXISTS", tag + ":layout"}) == 0);
  const long long ttl_before = raw.integer({"PTTL", tag + ":v:" + kvstore::encode_key({"a", "b"})});
  REQUIRE(ttl_before > 0);

  // Two stores open it at once: both upgrade, neither loses anything.
  std::vector<std::unique_ptr<kvstore::KvStore>> stores;
  stores.push_back(kvstore::open(url_with("prefix=" + prefix)));
  stores.push_back(kvstore::open(url_with("prefix=" + prefix)));
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (auto& s : stores) {
    threads.emplace_back([&failures, store = s.get()] {
      try {
        if (store->get({"a"}) != std::optional<Value>(Value{{"x", 1}})) ++failures;
      } catch (...) {
        ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(failures == 0);
  Reply version = raw.command({"GET", tag + ":layout"});
  REQUIRE(version->type == REDIS_REPLY_STRING);
  CHECK(std::string(version->str, version->len) == "2");

  kvstore::KvStore& store = *stores[0];
  CHECK(store.get({"a", "b"}) == std::optional<Value>(Value::array({1, 2, 3})));
  CHECK(store.get({"c"}) == std::optional<Value>(Value(nullptr)));
  CHECK_FALSE(store.get({"d"}));
  auto entry = store.get_entry({"a", "b"});
  REQUIRE(entry);
  CHECK(entry->metadata == std::nullopt);
  REQUIRE(entry->expires_at);
  const long long left = unix_ms(*entry->expires_at) - unix_ms(kvstore::Clock::now());
  CHECK(left > 500000);
  CHECK(left <= 600000 + 1000);
  entry = store.get_entry({"a"});
  REQUIRE(entry);
  CHECK(entry->metadata == std::nullopt);
  CHECK(entry->expires_at == std::nullopt);
  auto listed = store.list().to_vector();
  REQUIRE(listed.size() == 3);
  CHECK(listed[0].key == KvKey{"a"});
  CHECK(listed[1].key == KvKey{"a", "b"});
  CHECK(listed[1].expires_at.has_value());
  CHECK(listed[2].key == KvKey{"c"});
  for (const auto& e : listed) CHECK(e.metadata == std::nullopt);
  auto keys = store.list_keys().to_vector();
  REQUIRE(keys.size() == 3);
  CHECK(keys[1].expires_at == listed[1].expires_at);
  // The TTL is still Redis' own.
  const long long ttl_after = raw.integer({"PTTL", tag + ":v:" + kvstore::encode_key({"a", "b"})});
  CHECK(ttl_after > 0);
  CHECK(ttl_after <= ttl_before);
  // And the upgraded store takes metadata.
  store.set({"a"}, 5, {.ttl = std::nullopt, .metadata = Value("now")});
  CHECK(stores[1]->get_entry({"a"})->metadata == std::optional<Value>(Value("now")));
  // A store opened later finds version 2 and changes nothing.
  auto later = kvstore::open(url_with("prefix=" + prefix));
  CHECK(later->list().to_vector().size() == 3);
}

TEST_CASE("redis: a newer layout version fails every call", "[redis][upgrade]") {
  const std::string prefix = unique_prefix("v3");
  const std::string tag = tag_of(prefix);
  Raw raw;
  REQUIRE(raw.command({"SET", tag + ":layout", "3"})->type == REDIS_REPLY_STATUS);
  auto store = kvstore::open(url_with("prefix=" + prefix));
  auto check = [&](auto&& call) {
    kvstore::Error e = error_of(call);
    INFO(e.what());
    CHECK(e.code() == ErrorCode::unsupported);
    CHECK_FALSE(e.retryable());
    CHECK(contains(e.what(), "layout version 3 is newer than this kvstore supports (2)"));
  };
  check([&] { (void)store->get({"a"}); });
  check([&] { store->set({"a"}, 1); });
  check([&] { (void)store->get_entry({"a"}); });
  check([&] { (void)store->list().to_vector(); });
  check([&] { (void)store->list_keys().to_vector(); });
  check([&] { (void)store->get_many({{"a"}, {"b"}}); });
  check([&] { store->set_many({{{"a"}, 1}}); });
  check([&] { (void)store->cas({"a"}, std::nullopt, Value(1)); });
  check([&] { store->remove({"a"}); });
  check([&] { store->ping(); });
  // Nothing was written, and the version is left alone.
  CHECK(raw.integer({"EXISTS", tag + ":v:" + kvstore::encode_key({"a"}), tag + ":i"}) == 0);
  Reply version = raw.command({"GET", tag + ":layout"});
  REQUIRE(version->type == REDIS_REPLY_STRING);
  CHECK(std::string(version->str, version->len) == "3");
  // Not a number: corrupt, not a guess.
  const std::string bad = unique_prefix("vbad");
  REQUIRE(raw.command({"SET", tag_of(bad) + ":layout", "two"})->type == REDIS_REPLY_STATUS);
  auto bad_store = kvstore::open(url_with("prefix=" + bad));
  CHECK(error_code_of([&] { (void)bad_store->get({"a"}); }) == ErrorCode::corrupt);
}

TEST_CASE("redis: list_keys never reads values", "[redis][list][serial]") {
  const std::string prefix = unique_prefix("keysonly");
  auto store = kvstore::open(url_with("prefix=" + prefix));
  Raw raw;
  const std::string big(256 * 1024, 'x');
  constexpr int kCount = 40;  // 10 MiB of values
  for (int i = 0; i < kCount; ++i) {
    store->set_json({"big", std::to_string(100 + i)}, "\"" + big + "\"",
                    {.ttl = std::nullopt, .metadata = Value{{"i", i}}});
  }
  auto output_bytes = [&] {
    Reply reply = raw.command({"INFO", "stats"});
    const std::string text(reply->str, reply->len);
    const std::string needle = "total_net_output_bytes:";
    const std::size_t at = text.find(needle);
    REQUIRE(at != std::string::npos);
    return std::stoll(text.substr(at + needle.size()));
  };
  // Server-wide counters: the least seen over a few runs is the listing's own.
  long long keys_bytes = 1LL << 60, list_bytes = 1LL << 60, exists = 1LL << 60;
  for (int run = 0; run < 3; ++run) {
    long long before = output_bytes();
    const long long exists_before = raw.calls("exists");
    auto keys = store->list_keys({"big"}).to_vector();
    keys_bytes = std::min(keys_bytes, output_bytes() - before);
    exists = std::min(exists, raw.calls("exists") - exists_before);
    REQUIRE(keys.size() == kCount);
    CHECK(keys[7].metadata == std::optional<Value>(Value{{"i", 7}}));
    before = output_bytes();
    auto entries = store->list_json({"big"}).to_vector();
    list_bytes = std::min(list_bytes, output_bytes() - before);
    REQUIRE(entries.size() == kCount);
  }
  WARN("listing " << kCount << " entries of 256 KiB: list_keys sent " << keys_bytes
                  << " bytes, list sent " << list_bytes << " bytes");
  // One EXISTS per key (the liveness check), never the value.
  CHECK(exists == kCount);
  CHECK(list_bytes > kCount * static_cast<long long>(big.size()));
  CHECK(keys_bytes < 16 * 1024);
}
