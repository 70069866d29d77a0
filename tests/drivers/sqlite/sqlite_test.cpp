// Tests of the SQLite driver beyond the shared conformance suite: URL forms,
// query plans, persistence, errors, and several processes on one file.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <sqlite3.h>

#include <SQLiteCpp/SQLiteCpp.h>
#include <kvstore/driver.h>
#include <kvstore/kvstore.h>
#include <kvstore/sqlite.h>

#include "sql.h"
#include "store_helpers.h"

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using kvstore::ErrorCode;
using kvstore::KvKey;
using kvstore::Value;

using test_support::open_and_ping;

namespace {

// A fresh directory under $TMPDIR, removed with the object.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "kv-sqlite-test.XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

ErrorCode error_of(const std::function<void()>& call, std::string* message = nullptr) {
  try {
    call();
  } catch (const kvstore::Error& e) {
    if (message) *message = e.what();
    CHECK(e.driver() == "sqlite");
    return e.code();
  }
  FAIL("no kvstore::Error was thrown");
  return ErrorCode::internal;
}

std::string plan_of(SQLite::Database& db, const std::string& sql) {
  SQLite::Statement explain(db, "EXPLAIN QUERY PLAN " + sql);
  std::string plan;
  while (explain.executeStep()) plan += explain.getColumn(3).getString() + "\n";
  return plan;
}

// Children wait on a pipe until the parent closes it, so they start together.
class StartGate {
 public:
  StartGate() {
    if (::pipe(fds_) != 0) throw std::runtime_error("pipe failed");
  }
  ~StartGate() {
    if (fds_[0] >= 0) ::close(fds_[0]);
    if (fds_[1] >= 0) ::close(fds_[1]);
  }
  void wait_in_child() {
    ::close(fds_[1]);
    char byte;
    while (::read(fds_[0], &byte, 1) > 0) {
    }
  }
  void open_in_parent() {
    ::close(fds_[1]);
    fds_[1] = -1;
  }

 private:
  int fds_[2] = {-1, -1};
};

// Forks `n` children running `body(i)`, whose return value becomes the
// exit status; returns the statuses. Children never return into Catch.
std::vector<int> run_children(int n, const std::function<int(int)>& body) {
  StartGate gate;
  std::vector<pid_t> pids;
  for (int i = 0; i < n; ++i) {
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      int code = 99;
      try {
        gate.wait_in_child();
        code = body(i);
      } catch (const std::exception& e) {
        std::fprintf(stderr, "child %d: %s\n", i, e.what());
        code = 98;
      }
      std::fflush(nullptr);
      ::_exit(code);
    }
    pids.push_back(pid);
  }
  gate.open_in_parent();
  std::vector<int> statuses;
  for (pid_t pid : pids) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    statuses.push_back(WIFEXITED(status) ? WEXITSTATUS(status) : 200 + WTERMSIG(status));
  }
  return statuses;
}

}  // namespace

TEST_CASE("sqlite: URL forms", "[sqlite][url]") {
  TempDir dir;
  SECTION("absolute path, with and without //") {
    const std::string path = dir.file("abs.db");
    kvstore::open("sqlite:" + path)->set({"a"}, 1);
    CHECK(kvstore::open("sqlite://" + path)->get({"a"}) == Value(1));
    CHECK(fs::exists(path));
  }
  SECTION("relative path") {
    const fs::path previous = fs::current_path();
    fs::current_path(dir.path());
    kvstore::open("sqlite:sub.db?table=rel")->set({"r"}, "x");
    fs::current_path(previous);
    CHECK(fs::exists(dir.path() / "sub.db"));
    CHECK(kvstore::open("sqlite:" + dir.file("sub.db") + "?table=rel")->get({"r"}) == Value("x"));
  }
  SECTION("a percent-encoded path") {
    kvstore::open("sqlite:" + dir.file("with%20space.db"))->set({"s"}, 1);
    CHECK(fs::exists(dir.path() / "with space.db"));
  }
  SECTION("in-memory databases are private") {
    auto first = kvstore::open("sqlite::memory:");
    auto second = kvstore::open("sqlite::memory:");
    first->set({"only", "first"}, true);
    CHECK(first->get({"only", "first"}) == Value(true));
    CHECK_FALSE(second->get({"only", "first"}).has_value());
    CHECK_FALSE(first->capabilities().persistent);
    CHECK_FALSE(first->capabilities().shared);
  }
  SECTION("tables in one file are separate stores") {
    const std::string base = "sqlite:" + dir.file("tables.db");
    auto a = kvstore::open(base + "?table=a");
    auto b = kvstore::open(base + "?table=b");
    a->set({"k"}, "a");
    b->set({"k"}, "b");
    CHECK(a->get({"k"}) == Value("a"));
    CHECK(b->get({"k"}) == Value("b"));
    CHECK(a->capabilities().persistent);
    CHECK(a->capabilities().shared);
  }
  SECTION("parameters") {
    const std::string url = "sqlite:" + dir.file("params.db") +
                            "?table=Order&busy_timeout=250ms&journal_mode=DELETE&"
                            "synchronous=full&pool_size=2&sweep_interval=0&sweep_batch=10&"
                            "mmap_size=64MiB";
    kvstore::open(url)->set({"p"}, 1);
    CHECK(kvstore::open(url)->get({"p"}) == Value(1));
    SQLite::Database raw(dir.file("params.db"));
    CHECK(raw.execAndGet("PRAGMA journal_mode").getString() == "delete");
    kvstore::open("sqlite:" + dir.file("wal.db"))->ping();  // the first call creates the file
    SQLite::Database wal(dir.file("wal.db"));
    CHECK(wal.execAndGet("PRAGMA journal_mode").getString() == "wal");
  }
  SECTION("bad URLs") {
    const std::string file = "sqlite:" + dir.file("bad.db");
    for (const std::string& bad :
         {std::string("sqlite:"), std::string("sqlite://host/x.db"),
          file + "?table=a;DROP%20TABLE%20b", file + "?table=a%22b", file + "?table=sqlite_master",
          file + "?table=SQLITE_x", file + "?table=1abc",
          file + "?table=", file + "?table=" + std::string(65, 't'), file + "?journal_mode=wall",
          file + "?synchronous=sometimes", file + "?pool_size=0", file + "?busy_timeout=fast",
          file + "?cache=shared", std::string("sqlite::memory:?journal_mode=wal"),
          std::string("sqlite::memory:?mmap_size=1MiB")}) {
      INFO(bad);
      CHECK(error_of([&] { kvstore::open(bad); }) == ErrorCode::invalid_argument);
    }
    CHECK_FALSE(fs::exists(dir.file("bad.db")));
  }
}

TEST_CASE("sqlite: reads and listings are index searches", "[sqlite][plan]") {
  TempDir dir;
  const std::string path = dir.file("plan.db");
  auto store = kvstore::open("sqlite:" + path + "?table=plan");
  for (int i = 0; i < 100; ++i)
    store->set({"p", std::to_string(i)}, i,
               i % 2 ? kvstore::SetOptions{1h} : kvstore::SetOptions{});
  SQLite::Database db(path, SQLite::OPEN_READWRITE);
  db.exec("ANALYZE");  // the plan must hold with statistics too
  const kvstore::sqlite::detail::Sql sql("plan");

  // The primary key's index: "USING INDEX sqlite_autoindex_plan_1" for the
  // driver's rowid table, "USING PRIMARY KEY" for a WITHOUT ROWID one.
  auto key_search = [](const std::string& plan, const std::string& range) {
    return plan.find("SEARCH plan USING ") != std::string::npos &&
           (plan.find("INDEX sqlite_autoindex_plan_1 " + range) != std::string::npos ||
            plan.find("PRIMARY KEY " + range) != std::string::npos);
  };
  const std::string bounded = plan_of(db, sql.list_bounded);
  INFO(bounded);
  CHECK(key_search(bounded, "(k>? AND k<?)"));
  CHECK(bounded.find("SCAN") == std::string::npos);
  CHECK(bounded.find("TEMP B-TREE") == std::string::npos);

  const std::string unbounded = plan_of(db, sql.list_unbounded);
  INFO(unbounded);
  CHECK(key_search(unbounded, "(k>?)"));
  CHECK(unbounded.find("SCAN") == std::string::npos);
  CHECK(unbounded.find("TEMP B-TREE") == std::string::npos);

  for (const std::string* point :
       {&sql.get, &sql.get_entry, &sql.live, &sql.replace_equal, &sql.remove_equal, &sql.remove}) {
    const std::string plan = plan_of(db, *point);
    INFO(*point << "\n" << plan);
    CHECK(key_search(plan, "(k=?)"));
    CHECK(plan.find("SCAN") == std::string::npos);
  }

  const std::string sweep = plan_of(db, sql.sweep);
  INFO(sweep);
  CHECK(sweep.find("INDEX plan_expires_at (expires_at<?)") != std::string::npos);
  CHECK(sweep.find("SCAN") == std::string::npos);
  CHECK(sweep.find("TEMP B-TREE") == std::string::npos);
}

TEST_CASE("sqlite: prefix listing is exact for pattern characters and case", "[sqlite][list]") {
  auto store = kvstore::open("sqlite::memory:");
  const std::vector<KvKey> keys = {{"a%"}, {"a%", "x"}, {"a_"},     {"aX"}, {"A%"},
                                   {"ab"}, {"a"},       {"a", "%"}, {"a%b"}};
  for (const KvKey& key : keys) store->set(key, 1);
  std::vector<KvKey> listed;
  for (const auto& entry : store->list({"a%"})) listed.push_back(entry.key);
  CHECK(listed == std::vector<KvKey>{{"a%"}, {"a%", "x"}});
  listed.clear();
  for (const auto& entry : store->list({"a"})) listed.push_back(entry.key);
  CHECK(listed == std::vector<KvKey>{{"a"}, {"a", "%"}});
}

TEST_CASE("sqlite: data and TTLs survive reopening", "[sqlite][persistence]") {
  TempDir dir;
  const std::string url = "sqlite:" + dir.file("reopen.db") + "?table=kv";
  {
    auto store = kvstore::open(url);
    store->set({"permanent"}, Value{{"a", 1}, {"b", {1, 2, 3}}});
    store->set({"long"}, "hour", {1h});
    store->set({"short"}, "brief", {300ms});
    store->set_json({"raw"}, R"({"b":2, "a":1})");
    store->set({"gone"}, 1);
    store->remove({"gone"});
  }
  {
    auto store = kvstore::open(url);
    CHECK(store->get({"permanent"}) == Value{{"a", 1}, {"b", {1, 2, 3}}});
    CHECK(store->get({"long"}) == Value("hour"));
    CHECK(store->get({"short"}) == Value("brief"));
    CHECK(store->get_json({"raw"}) == std::optional<std::string>(R"({"b":2, "a":1})"));
    CHECK(store->cas({"raw"}, Value{{"a", 1}, {"b", 2.0}}, "swapped"));
    CHECK_FALSE(store->get({"gone"}).has_value());
  }
  std::this_thread::sleep_for(400ms);
  {
    auto store = kvstore::open(url);
    CHECK_FALSE(store->get({"short"}).has_value());
    CHECK(store->get({"long"}) == Value("hour"));
    CHECK(store->get({"raw"}) == Value("swapped"));
    std::vector<KvKey> keys;
    for (const auto& entry : store->list()) keys.push_back(entry.key);
    CHECK(keys == std::vector<KvKey>{{"long"}, {"permanent"}, {"raw"}});
    CHECK(store->cas({"short"}, std::nullopt, "new"));
  }
}

TEST_CASE("sqlite: expired rows are swept in batches by writes", "[sqlite][ttl]") {
  TempDir dir;
  const std::string path = dir.file("sweep.db");
  {
    // This handle never sweeps, so all the rows are still there afterwards.
    auto filler = kvstore::open("sqlite:" + path + "?table=s&sweep_interval=0");
    for (int i = 0; i < 450; ++i) filler->set({"e", std::to_string(i)}, i, {300ms});
    filler->set({"keep"}, 1, {1h});
  }
  auto store = kvstore::open("sqlite:" + path + "?table=s&sweep_interval=1ms&sweep_batch=100");
  SQLite::Database db(path);
  auto rows = [&] { return db.execAndGet("SELECT count(*) FROM s").getInt(); };
  CHECK(rows() == 451);
  std::this_thread::sleep_for(350ms);
  CHECK(rows() == 451);
  CHECK(store->list().to_vector().size() == 1);  // expired rows are invisible before the sweep
  int writes = 0;
  while (rows() > 2 && writes < 50) {
    store->set({"w"}, writes++);
    std::this_thread::sleep_for(2ms);
  }
  CHECK(rows() == 2);  // "keep" and "w"
  CHECK(writes >= 5);  // 450 rows at 100 per sweep: one batch per write
  CHECK(store->get({"keep"}) == Value(1));
}

TEST_CASE("sqlite: clear errors for unusable files", "[sqlite][errors]") {
  TempDir dir;
  std::string message;
  SECTION("a path in a missing directory") {
    CHECK(error_of([&] { open_and_ping("sqlite:" + dir.file("no/such/dir/kv.db")); }, &message) ==
          ErrorCode::unavailable);
    CHECK(message.find("does not exist") != std::string::npos);
    try {
      open_and_ping("sqlite:" + dir.file("no/such/dir/kv.db"));
    } catch (const kvstore::Error& e) {
      CHECK(e.native_code() == std::to_string(SQLITE_CANTOPEN));
    }
  }
  SECTION("a directory") {
    CHECK(error_of([&] { open_and_ping("sqlite:" + dir.path().string()); }, &message) ==
          ErrorCode::invalid_argument);
  }
  SECTION("a file that is not a SQLite database") {
    const std::string path = dir.file("text.db");
    std::ofstream(path) << std::string(8192, 'x');
    CHECK(error_of([&] { open_and_ping("sqlite:" + path); }, &message) == ErrorCode::corrupt);
    CHECK(message.find("not a SQLite database") != std::string::npos);
    try {
      open_and_ping("sqlite:" + path);
    } catch (const kvstore::Error& e) {
      CHECK(e.native_code() == std::to_string(SQLITE_NOTADB));
    }
  }
  SECTION("a table that is not a kvstore table") {
    const std::string path = dir.file("other.db");
    {
      SQLite::Database db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
      db.exec("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)");
    }
    CHECK(error_of([&] { open_and_ping("sqlite:" + path + "?table=users"); }, &message) ==
          ErrorCode::invalid_argument);
    CHECK(message.find("not a kvstore table") != std::string::npos);
    kvstore::open("sqlite:" + path + "?table=kv")->ping();
  }
  SECTION("a read-only file and a read-only directory") {
    const std::string path = dir.file("ro.db");
    kvstore::open("sqlite:" + path + "?journal_mode=delete")->set({"k"}, 1);
    fs::permissions(path, fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read);
    fs::permissions(dir.path(), fs::perms::owner_all | fs::perms::group_read |
                                    fs::perms::group_exec | fs::perms::others_read |
                                    fs::perms::others_exec);
    // root ignores file modes: check as an unprivileged user in a child.
    std::vector<int> statuses = run_children(1, [&](int) {
      if (::geteuid() == 0 && (::setgid(65534) != 0 || ::setuid(65534) != 0)) return 90;
      int failures = 0;
      for (const std::string& target : {path, dir.file("new.db")}) {
        try {
          kvstore::open("sqlite:" + target)->ping();
          ++failures;
        } catch (const kvstore::Error& e) {
          // SQLITE_READONLY for the file, SQLITE_CANTOPEN for the directory.
          if (e.code() != ErrorCode::permission_denied ||
              e.native_code() != (target == path ? "8" : "14")) {
            std::fprintf(stderr, "%s\n", e.what());
            ++failures;
          }
        }
      }
      return failures;
    });
    CHECK(statuses == std::vector<int>{0});
    fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write);
  }
}

TEST_CASE("sqlite: processes opening a new file at once all succeed", "[sqlite][processes]") {
  TempDir dir;
  for (int round = 0; round < 3; ++round) {
    const std::string url = "sqlite:" + dir.file("new" + std::to_string(round) + ".db");
    std::vector<int> statuses = run_children(6, [&](int i) {
      auto store = kvstore::open(url);
      store->set({"child", std::to_string(i)}, i);
      return store->get({"child", std::to_string(i)}) == Value(i) ? 0 : 1;
    });
    CHECK(statuses == std::vector<int>(6, 0));
    auto store = kvstore::open(url);
    int count = 0;
    for (const auto& entry : store->list({"child"})) count += entry.value.get<int>() >= 0;
    CHECK(count == 6);
  }
}

TEST_CASE("sqlite: cas is atomic across processes", "[sqlite][processes][cas]") {
  TempDir dir;
  const std::string url = "sqlite:" + dir.file("race.db") + "?table=race";
  constexpr int kChildren = 4;
  constexpr int kKeys = 150;
  constexpr int kIncrements = 40;
  kvstore::open(url)->set({"counter"}, 0);
  // Each child reports its wins through the database itself: a winner
  // writes the key with its own id, and counts its wins in a key of its own.
  std::vector<int> statuses = run_children(kChildren, [&](int child) {
    auto store = kvstore::open(url);
    int wins = 0;
    for (int k = 0; k < kKeys; ++k) {
      if (store->cas({"key", std::to_string(k)}, std::nullopt, child)) ++wins;
      for (;;) {  // interleave a get+cas counter with the races
        if (k % (kKeys / kIncrements + 1) != 0) break;
        std::optional<Value> current = store->get({"counter"});
        if (store->cas({"counter"}, current, current->get<int>() + 1)) break;
      }
    }
    store->set({"wins", std::to_string(child)}, wins);
    return 0;
  });
  CHECK(statuses == std::vector<int>(kChildren, 0));
  auto store = kvstore::open(url);
  int total_wins = 0;
  for (const auto& entry : store->list({"wins"})) total_wins += entry.value.get<int>();
  CHECK(total_wins == kKeys);
  std::vector<int> per_child(kChildren, 0);
  int keys = 0;
  for (const auto& entry : store->list({"key"})) {
    ++keys;
    ++per_child.at(entry.value.get<std::size_t>());
  }
  CHECK(keys == kKeys);
  for (int child = 0; child < kChildren; ++child) {
    CHECK(store->get({"wins", std::to_string(child)}) == Value(per_child[child]));
  }
  const int per_child_increments = (kKeys + kKeys / kIncrements) / (kKeys / kIncrements + 1);
  CHECK(store->get({"counter"}) == Value(kChildren * per_child_increments));
}

TEST_CASE("sqlite: many threads on two handles never see a lock error", "[sqlite][concurrency]") {
  TempDir dir;
  const std::string url = "sqlite:" + dir.file("threads.db") + "?table=t&pool_size=3";
  auto first = kvstore::open(url);
  auto second = kvstore::open(url);
  std::atomic<int> errors{0};
  std::atomic<int> operations{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      kvstore::KvStore& store = t % 2 ? *first : *second;
      std::mt19937 random(static_cast<unsigned>(t));
      const auto stop = std::chrono::steady_clock::now() + 1500ms;
      while (std::chrono::steady_clock::now() < stop) {
        const KvKey key{"k", std::to_string(random() % 50)};
        try {
          switch (random() % 5) {
            case 0:
              store.set(key, t, {{random() % 2 ? 10ms : 1h}});
              break;
            case 1:
              store.remove(key);
              break;
            case 2:
              store.cas(key, std::nullopt, t);
              break;
            case 3:
              (void)store.list({"k"}, {.start_after = std::nullopt, .limit = 10}).to_vector();
              break;
            default:
              (void)store.get(key);
              break;
          }
          ++operations;
        } catch (const kvstore::Error& e) {
          ++errors;
          UNSCOPED_INFO(e.what());
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  CHECK(errors == 0);
  CHECK(operations > 100);
}

TEST_CASE("sqlite: a path containing NUL is invalid_argument, before any I/O", "[sqlite][url]") {
  TempDir dir;
  std::string message;
  for (const std::string& url : {std::string("sqlite:%00"), "sqlite:" + dir.file("a%00b.db"),
                                 "sqlite:" + dir.file("c.db%00")}) {
    INFO(url);
    CHECK(error_of([&] { kvstore::open(url); }, &message) == ErrorCode::invalid_argument);
    CHECK(message.find("path contains NUL") != std::string::npos);
    CHECK(message.find('\0') == std::string::npos);
  }
  kvstore::sqlite::Options options;
  options.path = dir.file("d") + std::string(1, '\0') + ".db";
  CHECK(error_of([&] { kvstore::sqlite::create(options); }, &message) ==
        ErrorCode::invalid_argument);
  CHECK(message.find("path contains NUL") != std::string::npos);
  // Nothing was created under the name before the NUL either.
  CHECK(fs::is_empty(dir.path()));
}

TEST_CASE("sqlite: duration options have ranges, in URLs and in Options", "[sqlite][url]") {
  TempDir dir;
  const std::string file = "sqlite:" + dir.file("ranges.db");
  for (const char* bad :
       {"busy_timeout=2h", "busy_timeout=99999999999h", "sweep_interval=3601s",
        "sweep_interval=99999999999h", "pool_timeout=0", "pool_timeout=2h",
        "pool_timeout=99999999999h", "connect_timeout=0", "connect_timeout=2h", "command_timeout=0",
        "command_timeout=2h", "sweep_batch=0", "sweep_batch=100001", "pool_size=1025"}) {
    INFO(bad);
    CHECK(error_of([&] { kvstore::open(file + "?" + bad); }) == ErrorCode::invalid_argument);
  }
  CHECK_FALSE(fs::exists(dir.file("ranges.db")));
  // The bounds themselves are accepted.
  auto store =
      kvstore::open(file + "?busy_timeout=1h&sweep_interval=1h&pool_timeout=1h&table=upper");
  store->set({"k"}, 1, {1s});
  CHECK(store->get({"k"}) == Value(1));
  kvstore::open(file + "?busy_timeout=0&sweep_interval=0&pool_timeout=1ms&table=lower")
      ->set({"k"}, 1, {1s});

  // Options have the URL's ranges: an unbounded sweep_interval would overflow
  // the next sweep's time (now + interval) on the first write.
  using ms = std::chrono::milliseconds;
  auto with = [&](auto change) {
    kvstore::sqlite::Options options;
    options.path = dir.file("options.db");
    change(options);
    return options;
  };
  for (const kvstore::sqlite::Options& options :
       {with([](auto& o) { o.sweep_interval = ms::max(); }),
        with([](auto& o) { o.sweep_interval = ms(-1); }),
        with([](auto& o) { o.sweep_interval = 1h + 1ms; }),
        with([](auto& o) { o.busy_timeout = 1h + 1ms; }),
        with([](auto& o) { o.busy_timeout = ms(-1); }),
        with([](auto& o) { o.pool_timeout = ms(0); }),
        with([](auto& o) { o.pool_timeout = ms::max(); }),
        with([](auto& o) { o.connect_timeout = ms(0); }),
        with([](auto& o) { o.command_timeout = 1h + 1ms; }), with([](auto& o) { o.pool_size = 0; }),
        with([](auto& o) { o.pool_size = 1025; }), with([](auto& o) { o.sweep_batch = 100001; })}) {
    INFO(options.sweep_interval.count()
         << " " << options.busy_timeout.count() << " " << options.pool_timeout.count());
    CHECK(error_of([&] { kvstore::sqlite::create(options)->set({"k"}, 1, {1s}); }) ==
          ErrorCode::invalid_argument);
  }
  CHECK_FALSE(fs::exists(dir.file("options.db")));
}

TEST_CASE("sqlite: a TTL of kMaxTtl is stored as now + kMaxTtl", "[sqlite][ttl]") {
  TempDir dir;
  const std::string path = dir.file("maxttl.db");
  auto store = kvstore::open("sqlite:" + path);
  const auto now_ms = [] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  };
  const std::int64_t before = now_ms();
  store->set({"far"}, "f", {kvstore::kMaxTtl});
  CHECK(store->cas({"cas"}, std::nullopt, 1, {kvstore::kMaxTtl}));
  const std::int64_t after = now_ms();
  SQLite::Database db(path);
  SQLite::Statement rows(db, "SELECT expires_at FROM kvstore ORDER BY k");
  int count = 0;
  while (rows.executeStep()) {
    const std::int64_t expires_at = rows.getColumn(0).getInt64();
    CHECK(expires_at >= before + kvstore::kMaxTtl.count());
    CHECK(expires_at <= after + kvstore::kMaxTtl.count());
    ++count;
  }
  CHECK(count == 2);
  CHECK(store->get({"far"}) == Value("f"));
  CHECK(store->get({"cas"}) == Value(1));
}

TEST_CASE("sqlite: a caller finding every pooled connection busy times out after pool_timeout",
          "[sqlite][concurrency]") {
  TempDir dir;
  const std::string path = dir.file("pool.db");
  auto store = kvstore::open("sqlite:" + path + "?pool_size=1&busy_timeout=5s&pool_timeout=300ms");
  store->set({"k"}, 1);
  // Another connection takes the write lock, so a write through the store's
  // only connection holds that connection while it waits up to busy_timeout.
  SQLite::Database other(path, SQLite::OPEN_READWRITE);
  other.exec("BEGIN IMMEDIATE");
  std::atomic<bool> writer_done{false};
  std::string writer_error;
  std::thread writer([&] {
    try {
      store->set({"k"}, 2);
    } catch (const kvstore::Error& e) {
      writer_error = e.what();
    }
    writer_done = true;
  });
  std::this_thread::sleep_for(200ms);
  REQUIRE_FALSE(writer_done);  // it holds the connection, waiting for the lock

  std::string message;
  kvstore::Error error(ErrorCode::internal, "none");
  const auto start = std::chrono::steady_clock::now();
  try {
    (void)store->get({"k"});
  } catch (const kvstore::Error& e) {
    error = e;
  }
  const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::steady_clock::now() - start)
                          .count();
  const bool writer_still_waiting = !writer_done;
  other.exec("ROLLBACK");
  writer.join();
  WARN("full pool: " << error.what() << " after " << waited << " ms");
  CHECK(error.code() == ErrorCode::timeout);
  CHECK(error.retryable());
  CHECK(error.driver() == "sqlite");
  // The kit's pool says how many connections stayed busy for how long.
  CHECK(std::string(error.what()).find("all 1 pooled connections") != std::string::npos);
  CHECK(std::string(error.what()).find("pool_timeout (300ms)") != std::string::npos);
  CHECK(waited >= 290);
  CHECK(waited < 1500);
  CHECK(writer_still_waiting);
  // The writer was not disturbed, and the pool works again.
  CHECK(writer_error.empty());
  CHECK(store->get({"k"}) == Value(2));
}

namespace {
kvstore::Error error_from(const std::function<void()>& call) {
  try {
    call();
  } catch (const kvstore::Error& e) {
    return e;
  }
  FAIL("no kvstore::Error was thrown");
  return kvstore::Error(ErrorCode::internal, "none");
}

long long ms_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                               start)
      .count();
}
}  // namespace

TEST_CASE("sqlite: a lock held elsewhere gives timeout with SQLITE_BUSY, outcome known",
          "[sqlite][errors]") {
  TempDir dir;
  const std::string path = dir.file("busy.db");
  auto store = kvstore::open("sqlite:" + path + "?busy_timeout=150ms");
  store->set({"k"}, 1);
  SQLite::Database other(path, SQLite::OPEN_READWRITE);
  other.exec("BEGIN IMMEDIATE");
  for (bool swap : {false, true}) {
    INFO((swap ? "cas" : "set"));
    const auto start = std::chrono::steady_clock::now();
    const kvstore::Error e = error_from([&] {
      if (swap) {
        store->cas({"k"}, Value(1), Value(2));
      } else {
        store->set({"k"}, 2);
      }
    });
    const long long waited = ms_since(start);
    CHECK(e.code() == ErrorCode::timeout);
    CHECK(e.retryable());
    CHECK(e.driver() == "sqlite");
    CHECK(e.native_code() == std::to_string(SQLITE_BUSY));
    // The statement failed as a whole: nothing is in doubt.
    CHECK_FALSE(e.outcome_unknown());
    CHECK(std::string(e.what()).find("busy_timeout=150ms") != std::string::npos);
    CHECK(waited >= 140);
    CHECK(waited < 2000);
  }
  CHECK(store->get({"k"}) == Value(1));  // reads go on under WAL
  other.exec("ROLLBACK");
  CHECK(store->cas({"k"}, Value(1), Value(2)));
}

TEST_CASE("sqlite: command_timeout bounds a call's lock wait below busy_timeout",
          "[sqlite][errors]") {
  TempDir dir;
  const std::string path = dir.file("command.db");
  auto store = kvstore::open("sqlite:" + path + "?busy_timeout=5s&command_timeout=200ms");
  store->set({"k"}, 1);
  SQLite::Database other(path, SQLite::OPEN_READWRITE);
  other.exec("BEGIN IMMEDIATE");
  const auto start = std::chrono::steady_clock::now();
  const kvstore::Error e = error_from([&] { store->set({"k"}, 2); });
  const long long waited = ms_since(start);
  other.exec("ROLLBACK");
  CHECK(e.code() == ErrorCode::timeout);
  CHECK(e.native_code() == std::to_string(SQLITE_BUSY));
  CHECK(waited >= 190);
  CHECK(waited < 2000);
  store->set({"k"}, 3);
  CHECK(store->get({"k"}) == Value(3));
}

TEST_CASE("sqlite: connect_timeout bounds opening a locked file", "[sqlite][errors]") {
  TempDir dir;
  const std::string path = dir.file("connect.db");
  kvstore::open("sqlite:" + path + "?journal_mode=delete")->set({"k"}, 1);
  // In rollback-journal mode an exclusive lock keeps readers out, so a new
  // store cannot even read the schema.
  SQLite::Database other(path, SQLite::OPEN_READWRITE);
  other.exec("BEGIN EXCLUSIVE");
  auto store = kvstore::open("sqlite:" + path +
                             "?journal_mode=delete&busy_timeout=5s&connect_timeout=200ms");
  const auto start = std::chrono::steady_clock::now();
  const kvstore::Error e = error_from([&] { store->ping(); });
  const long long waited = ms_since(start);
  other.exec("ROLLBACK");
  CHECK(e.code() == ErrorCode::timeout);
  CHECK(e.native_code() == std::to_string(SQLITE_BUSY));
  CHECK(std::string(e.what()).find("opening") != std::string::npos);
  CHECK(waited >= 190);
  CHECK(waited < 2000);
  // The store opens once the lock is gone.
  CHECK(store->get({"k"}) == Value(1));
}

TEST_CASE("sqlite: typed Options build the same store as the URL", "[sqlite][options]") {
  TempDir dir;
  // Characters a URL would need percent-encoded are plain in Options.
  const fs::path odd = dir.path() / "u@h:p/w?x#y%z";
  fs::create_directories(odd);
  kvstore::sqlite::Options options;
  options.path = (odd / "a@b:c.db").string();
  options.table = "typed";
  options.pool_size = 2;
  options.command_timeout = 3s;
  options.sweep_batch = 7;
  auto store = kvstore::sqlite::create(options);
  // create() does no I/O: the file appears with the first call.
  CHECK_FALSE(fs::exists(options.path));
  store->ping();
  CHECK(fs::exists(options.path));
  store->set({"k"}, "v");
  CHECK(store->get({"k"}) == Value("v"));

  // The same file through a URL, percent-encoded, and back to Options.
  std::string encoded;
  for (char c : options.path) {
    static const std::string special = "@:?#% ";
    if (special.find(c) != std::string::npos) {
      char buffer[4];
      std::snprintf(buffer, sizeof buffer, "%%%02X", static_cast<unsigned char>(c));
      encoded += buffer;
    } else {
      encoded += c;
    }
  }
  const std::string url = "sqlite:" + encoded + "?table=typed&pool_size=2&sweep_batch=7";
  const kvstore::sqlite::Options parsed = kvstore::sqlite::Options::from_url(url);
  CHECK(parsed.path == options.path);
  CHECK(parsed.table == "typed");
  CHECK(parsed.pool_size == 2);
  CHECK(parsed.sweep_batch == 7);
  CHECK(kvstore::open(url)->get({"k"}) == Value("v"));
  CHECK(kvstore::sqlite::create(parsed)->get({"k"}) == Value("v"));

  // The shared parameters' defaults, the same in every driver.
  const kvstore::sqlite::Options defaults = kvstore::sqlite::Options::from_url("sqlite:x.db");
  CHECK(defaults.path == "x.db");
  CHECK(defaults.pool_size == 8);
  CHECK(defaults.pool_timeout == 5s);
  CHECK(defaults.connect_timeout == 5s);
  CHECK(defaults.command_timeout == 10s);
  CHECK(defaults.sweep_interval == 1s);
  CHECK(defaults.sweep_batch == 500);
  CHECK(defaults.busy_timeout == 5s);
  CHECK(kvstore::sqlite::Options::from_url("sqlite::memory:").path == kvstore::sqlite::kMemoryPath);

  // from_url rejects what open() rejects, naming the driver.
  for (const char* bad : {"redis://localhost/0", "sqlite:x.db?nope=1", "sqlite:x.db?pool_size=0",
                          "sqlite:x.db?table=1x", "sqlite://host/x.db", "sqlite:"}) {
    INFO(bad);
    CHECK(error_of([&] { (void)kvstore::sqlite::Options::from_url(bad); }) ==
          ErrorCode::invalid_argument);
  }
}

TEST_CASE("sqlite: typed Options carry max_value_size and list_page_size to create()",
          "[sqlite][options]") {
  TempDir dir;
  const std::string url =
      "sqlite:" + (dir.path() / "settings.db").string() + "?max_value_size=1KiB&list_page_size=2";
  const kvstore::sqlite::Options options = kvstore::sqlite::Options::from_url(url);
  CHECK(options.store.max_value_bytes == std::optional<std::size_t>(1024));
  CHECK(options.store.list_page_size == std::optional<std::size_t>(2));
  test_support::check_small_store_settings(*kvstore::sqlite::create(options), {"typed"});
  // open() reads the same URL to the same store settings.
  test_support::check_small_store_settings(*kvstore::open(url), {"opened"});
  // Without them, create() keeps the defaults.
  const auto plain = kvstore::sqlite::create(kvstore::sqlite::Options::from_url("sqlite::memory:"));
  CHECK(plain->capabilities().max_value_bytes == kvstore::kDefaultMaxValueBytes);
  CHECK(plain->capabilities().list_page_size > 2);
}

namespace {

using kvstore::Clock;
using kvstore::SetOptions;

// Exactly what the driver created and wrote before layouts had versions
// (version 1, at commit a2f674f): the table, its sweep index, and rows
// written by its upsert.
void create_v1_table(SQLite::Database& db, const std::string& table) {
  const std::string t = "\"" + table + "\"";
  db.exec("CREATE TABLE IF NOT EXISTS " + t +
          " (k BLOB NOT NULL PRIMARY KEY, v TEXT NOT NULL, expires_at INTEGER)");
  db.exec("CREATE INDEX IF NOT EXISTS \"" + table + "_expires_at\" ON " + t +
          " (expires_at) WHERE expires_at IS NOT NULL");
}

void put_v1_row(SQLite::Database& db, const std::string& table, const KvKey& key,
                const std::string& json, std::optional<std::int64_t> expires_at_ms) {
  SQLite::Statement s(db, "INSERT INTO \"" + table +
                              "\" (k, v, expires_at) VALUES (?1, ?2, ?3) ON CONFLICT (k) DO "
                              "UPDATE SET v = excluded.v, expires_at = excluded.expires_at");
  const std::string encoded = kvstore::encode_key(key);
  s.bind(1, encoded.data(), static_cast<int>(encoded.size()));
  s.bind(2, json);
  if (expires_at_ms) {
    s.bind(3, *expires_at_ms);
  } else {
    s.bind(3);
  }
  s.exec();
}

std::int64_t epoch_ms(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

Clock::time_point from_ms(std::int64_t ms) {
  return Clock::time_point(std::chrono::milliseconds(ms));
}

std::optional<int> layout_row(SQLite::Database& db, const std::string& table) {
  if (!db.tableExists("kvstore_layout")) return std::nullopt;
  SQLite::Statement s(db, "SELECT version FROM kvstore_layout WHERE table_name = ?1");
  s.bind(1, table);
  if (!s.executeStep()) return std::nullopt;
  return s.getColumn(0).getInt();
}

std::string columns_of(SQLite::Database& db, const std::string& table) {
  SQLite::Statement s(db, "SELECT name FROM pragma_table_info(?1) ORDER BY cid");
  s.bind(1, table);
  std::string names;
  while (s.executeStep()) names += (names.empty() ? "" : ",") + s.getColumn(0).getString();
  return names;
}

}  // namespace

TEST_CASE("sqlite: a version 1 table is upgraded in place on first use", "[sqlite][layout]") {
  TempDir dir;
  const std::string path = dir.file("v1.db");
  const std::int64_t hour_from_now = epoch_ms(Clock::now() + 1h);
  {
    SQLite::Database db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    db.exec("PRAGMA journal_mode = wal");
    for (const std::string table : {"kv", "other"}) {
      create_v1_table(db, table);
      put_v1_row(db, table, {"permanent"}, R"({"a":1,"b":[1,2,3]})", std::nullopt);
      put_v1_row(db, table, {"ttl", "long"}, R"("hour")", hour_from_now);
      put_v1_row(db, table, {"ttl", "short"}, R"("brief")", epoch_ms(Clock::now() + 400ms));
      put_v1_row(db, table, {"expired"}, "1", epoch_ms(Clock::now() - 1s));
      put_v1_row(db, table, {"raw"}, R"({"b":2, "a":1})", std::nullopt);
    }
  }
  auto store = kvstore::open("sqlite:" + path + "?table=kv");
  CHECK(store->get({"permanent"}) == Value{{"a", 1}, {"b", {1, 2, 3}}});
  CHECK(store->get_json({"raw"}) == std::optional<std::string>(R"({"b":2, "a":1})"));
  CHECK_FALSE(store->get({"expired"}).has_value());

  const auto permanent = store->get_entry({"permanent"});
  REQUIRE(permanent.has_value());
  CHECK_FALSE(permanent->metadata.has_value());
  CHECK_FALSE(permanent->expires_at.has_value());
  const auto long_ttl = store->get_entry({"ttl", "long"});
  REQUIRE(long_ttl.has_value());
  CHECK(long_ttl->value == Value("hour"));
  CHECK_FALSE(long_ttl->metadata.has_value());
  CHECK(long_ttl->expires_at == std::optional<Clock::time_point>(from_ms(hour_from_now)));

  std::vector<KvKey> listed;
  for (const auto& entry : store->list()) {
    listed.push_back(entry.key);
    CHECK_FALSE(entry.metadata.has_value());
    CHECK(entry.expires_at.has_value() == (entry.key.at(0) == "ttl"));
  }
  CHECK(listed == std::vector<KvKey>{{"permanent"}, {"raw"}, {"ttl", "long"}, {"ttl", "short"}});
  std::vector<KvKey> keys;
  for (const auto& entry : store->list_keys({"ttl"})) keys.push_back(entry.key);
  CHECK(keys == std::vector<KvKey>{{"ttl", "long"}, {"ttl", "short"}});

  {
    SQLite::Database db(path, SQLite::OPEN_READONLY);
    CHECK(layout_row(db, "kv") == std::optional<int>(2));
    CHECK(columns_of(db, "kv") == "k,v,expires_at,metadata");
    // A table is upgraded when a store opens it, not when its file is opened.
    CHECK_FALSE(layout_row(db, "other").has_value());
    CHECK(columns_of(db, "other") == "k,v,expires_at");
  }

  // The short TTL still runs out, and the upgraded table takes metadata.
  std::this_thread::sleep_for(500ms);
  CHECK_FALSE(store->get({"ttl", "short"}).has_value());
  store->set({"raw"}, 2, SetOptions{.ttl = std::nullopt, .metadata = Value{{"m", true}}});
  CHECK(store->get_entry({"raw"})->metadata == std::optional<Value>(Value{{"m", true}}));

  // A second store (another open of the same file) finds it current.
  auto again = kvstore::open("sqlite:" + path + "?table=kv");
  CHECK(again->get({"ttl", "long"}) == Value("hour"));
  auto other = kvstore::open("sqlite:" + path + "?table=other");
  CHECK(other->get({"permanent"}) == Value{{"a", 1}, {"b", {1, 2, 3}}});
  SQLite::Database db(path, SQLite::OPEN_READONLY);
  CHECK(layout_row(db, "other") == std::optional<int>(2));
}

TEST_CASE("sqlite: processes upgrading one version 1 table at once all succeed",
          "[sqlite][layout][processes]") {
  TempDir dir;
  const std::string path = dir.file("race.db");
  constexpr int kEntries = 200;
  {
    SQLite::Database db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    db.exec("PRAGMA journal_mode = wal");
    create_v1_table(db, "kv");
    SQLite::Transaction transaction(db);
    for (int i = 0; i < kEntries; ++i) {
      put_v1_row(db, "kv", {"k", std::to_string(i)}, std::to_string(i),
                 i % 2 ? std::optional<std::int64_t>(epoch_ms(Clock::now() + 1h)) : std::nullopt);
    }
    transaction.commit();
  }
  const std::vector<int> statuses = run_children(4, [&](int i) {
    auto store = kvstore::open("sqlite:" + path + "?table=kv");
    store->set({"child", std::to_string(i)}, i,
               SetOptions{.ttl = std::nullopt, .metadata = Value(i)});
    std::size_t n = 0;
    for (const auto& entry : store->list_keys({"k"})) {
      if (entry.expires_at.has_value() != (std::stoi(entry.key.at(1)) % 2 == 1)) return 2;
      ++n;
    }
    return n == kEntries ? 0 : 1;
  });
  CHECK(statuses == std::vector<int>(4, 0));
  auto store = kvstore::open("sqlite:" + path + "?table=kv");
  for (int i = 0; i < 4; ++i) {
    CHECK(store->get_entry({"child", std::to_string(i)})->metadata ==
          std::optional<Value>(Value(i)));
  }
  for (int i = 0; i < kEntries; ++i) CHECK(store->get({"k", std::to_string(i)}) == Value(i));
}

TEST_CASE("sqlite: a newer layout version fails every call with unsupported", "[sqlite][layout]") {
  TempDir dir;
  const std::string path = dir.file("newer.db");
  kvstore::open("sqlite:" + path + "?table=kv")->set({"a"}, 1);
  {
    SQLite::Database db(path, SQLite::OPEN_READWRITE);
    db.exec("UPDATE kvstore_layout SET version = 3 WHERE table_name = 'kv'");
  }
  auto store = kvstore::open("sqlite:" + path + "?table=kv");
  const std::vector<std::function<void()>> calls = {
      [&] { store->get({"a"}); },
      [&] { store->set({"b"}, 2); },
      [&] { store->get_entry({"a"}); },
      [&] {
        for (const auto& entry : store->list_keys()) (void)entry;
      },
      [&] { store->get({"a"}); },
  };
  for (const auto& call : calls) {
    std::string message;
    CHECK(error_of(call, &message) == ErrorCode::unsupported);
    CHECK(message.find("layout version 3 is newer than this kvstore supports (2)") !=
          std::string::npos);
  }
  SQLite::Database db(path, SQLite::OPEN_READONLY);
  CHECK(db.execAndGet("SELECT count(*) FROM kv").getInt() == 1);
  CHECK(layout_row(db, "kv") == std::optional<int>(3));
  // Other tables of the file are not concerned.
  kvstore::open("sqlite:" + path + "?table=kv2")->set({"a"}, 1);
}

TEST_CASE("sqlite: the layout table's name is not a data table", "[sqlite][layout][url]") {
  for (const char* name : {"kvstore_layout", "KVSTORE_Layout"}) {
    std::string message;
    CHECK(error_of([&] { kvstore::open(std::string("sqlite::memory:?table=") + name); },
                   &message) == ErrorCode::invalid_argument);
    CHECK(message.find("reserved") != std::string::npos);
  }
}

TEST_CASE("sqlite: metadata and expiry are stored as written", "[sqlite][metadata]") {
  TempDir dir;
  const std::string path = dir.file("meta.db");
  auto store = kvstore::open("sqlite:" + path + "?table=kv");
  const Clock::time_point at = std::chrono::floor<std::chrono::milliseconds>(Clock::now() + 2h);
  store->set({"null"}, 1, SetOptions{.ttl = std::nullopt, .metadata = Value(nullptr)});
  store->set({"none"}, 1);
  store->set({"at"}, 1,
             SetOptions{.ttl = std::nullopt, .expires_at = at, .metadata = Value{{"x", "y"}}});
  store->set_many({{{"many", "1"}, 1, SetOptions{.ttl = std::nullopt, .metadata = Value("m1")}},
                   {{"many", "2"}, 2, SetOptions{.ttl = std::nullopt, .expires_at = at}}});
  CHECK_FALSE(
      store->cas({"null"}, 2, 3, SetOptions{.ttl = std::nullopt, .metadata = Value("lost")}));
  CHECK(store->cas({"none"}, 1, 4,
                   SetOptions{.ttl = std::nullopt, .expires_at = at, .metadata = Value(false)}));
  CHECK(
      store->cas({"new"}, std::nullopt, 5, SetOptions{.ttl = std::nullopt, .metadata = Value(0)}));

  SQLite::Database db(path, SQLite::OPEN_READONLY);
  auto raw = [&](const KvKey& key) {
    SQLite::Statement s(db, "SELECT metadata, expires_at FROM kv WHERE k = ?1");
    const std::string encoded = kvstore::encode_key(key);
    s.bind(1, encoded.data(), static_cast<int>(encoded.size()));
    REQUIRE(s.executeStep());
    return std::pair(s.getColumn(0).isNull() ? std::optional<std::string>()
                                             : std::optional(s.getColumn(0).getString()),
                     s.getColumn(1).isNull() ? std::optional<std::int64_t>()
                                             : std::optional(s.getColumn(1).getInt64()));
  };
  // JSON null is the text "null"; no metadata is SQL NULL.
  CHECK(raw({"null"}).first == std::optional<std::string>("null"));
  CHECK(raw({"many", "2"}).first == std::nullopt);
  CHECK(raw({"none"}) ==
        std::pair(std::optional<std::string>("false"), std::optional<std::int64_t>(epoch_ms(at))));
  CHECK(raw({"at"}).second == std::optional<std::int64_t>(epoch_ms(at)));

  CHECK(store->get_entry({"null"})->metadata == std::optional<Value>(Value(nullptr)));
  CHECK(store->get_entry({"new"})->metadata == std::optional<Value>(Value(0)));
  const auto entry = store->get_entry({"at"});
  REQUIRE(entry.has_value());
  CHECK(entry->expires_at == std::optional<Clock::time_point>(at));
  std::vector<std::pair<std::optional<Value>, std::optional<Clock::time_point>>> listed, keys;
  for (const auto& e : store->list({"many"})) listed.emplace_back(e.metadata, e.expires_at);
  for (const auto& e : store->list_keys({"many"})) keys.emplace_back(e.metadata, e.expires_at);
  const decltype(listed) expected = {{Value("m1"), std::nullopt}, {std::nullopt, at}};
  CHECK(listed == expected);
  CHECK(keys == expected);
  // A write without metadata or expiry leaves neither.
  store->set({"at"}, 2);
  CHECK(raw({"at"}) == std::pair(std::optional<std::string>(), std::optional<std::int64_t>()));
}

TEST_CASE("sqlite: list_keys reads the covering index and no value", "[sqlite][plan]") {
  TempDir dir;
  const std::string path = dir.file("keys.db");
  constexpr int kEntries = 16;
  const std::string big(1 << 20, 'x');  // 1 MiB each: 256 pages of overflow
  {
    auto store = kvstore::open("sqlite:" + path + "?table=plan");
    for (int i = 0; i < kEntries; ++i) {
      store->set({"p", std::to_string(i)}, big,
                 i % 2 ? SetOptions{1h} : SetOptions{.ttl = std::nullopt, .metadata = Value(i)});
    }
    int listed = 0;
    for (const auto& entry : store->list_keys({"p"})) {
      CHECK(entry.metadata.has_value() != entry.expires_at.has_value());
      ++listed;
    }
    CHECK(listed == kEntries);
  }
  const kvstore::sqlite::detail::Sql sql("plan");
  {
    SQLite::Database db(path, SQLite::OPEN_READWRITE);
    db.exec("ANALYZE");
    for (const std::string* keys : {&sql.list_keys_bounded, &sql.list_keys_unbounded}) {
      const std::string plan = plan_of(db, *keys);
      INFO(*keys << "\n" << plan);
      CHECK(plan.find("USING COVERING INDEX plan_keys (k>?") != std::string::npos);
      CHECK(plan.find("TEMP B-TREE") == std::string::npos);
      SQLite::Statement s(db, *keys);
      std::vector<std::string> columns;
      for (int i = 0; i < s.getColumnCount(); ++i) columns.emplace_back(s.getColumnName(i));
      CHECK(columns == std::vector<std::string>{"k", "metadata", "expires_at"});
    }
  }
  // Bytes a cold connection reads (pread, counted by the kernel in
  // /proc/self/io's rchar, whatever SQLite's cache does) to answer a listing.
  auto bytes_read = [&](const std::string& statement) {
    auto rchar = [] {
      std::ifstream io("/proc/self/io");
      std::string field;
      std::int64_t value = 0;
      while (io >> field >> value) {
        if (field == "rchar:") return value;
      }
      return std::int64_t{-1};
    };
    SQLite::Database db(path, SQLite::OPEN_READONLY);
    SQLite::Statement s(db, statement);
    const std::string begin = kvstore::encode_key({"p"});
    s.bind(1, begin.data(), static_cast<int>(begin.size()));
    s.bind(3, static_cast<std::int64_t>(0));
    s.bind(4, static_cast<std::int64_t>(1000));
    const std::int64_t before = rchar();
    int rows = 0;
    while (s.executeStep()) ++rows;
    const std::int64_t after = rchar();
    CHECK(rows == kEntries);
    REQUIRE(before >= 0);
    return after - before;
  };
  const std::int64_t keys_bytes = bytes_read(sql.list_keys_unbounded);
  const std::int64_t list_bytes = bytes_read(sql.list_unbounded);
  INFO("bytes read: list_keys " << keys_bytes << ", list " << list_bytes);
  CHECK(keys_bytes < 64 * 1024);
  CHECK(list_bytes > kEntries * (1 << 20));
}
