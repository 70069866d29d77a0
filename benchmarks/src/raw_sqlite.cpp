// Raw baseline: the SQLite C API with the simplest equivalent schema,
//   CREATE TABLE kvbench_raw (k TEXT PRIMARY KEY, v TEXT NOT NULL, expires_at INTEGER)
// one connection per thread (WAL, synchronous=NORMAL, busy_timeout), prepared
// SELECT / UPSERT / conditional UPDATE-INSERT-DELETE for cas, range SELECT for list.
#include <sqlite3.h>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <stdexcept>

#include "raw_common.h"

namespace kvbench {

namespace {

class Db {
 public:
  explicit Db(const std::string& path) {
    int rc = sqlite3_open_v2(
        path.c_str(), &db_,
        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI,
        nullptr);
    if (rc != SQLITE_OK) {
      std::string msg = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
      sqlite3_close(db_);
      throw std::runtime_error("sqlite open " + path + ": " + msg);
    }
    sqlite3_busy_timeout(db_, 10000);
    exec("PRAGMA journal_mode=WAL");
    exec("PRAGMA synchronous=NORMAL");
  }
  ~Db() { sqlite3_close_v2(db_); }
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  void exec(const char* sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
      std::string msg = err ? err : "?";
      sqlite3_free(err);
      throw std::runtime_error(std::string("sqlite: ") + msg + " in: " + sql);
    }
  }
  sqlite3* get() const { return db_; }
  [[noreturn]] void fail(const char* what) const {
    throw std::runtime_error(std::string("sqlite ") + what + ": " + sqlite3_errmsg(db_));
  }

 private:
  sqlite3* db_ = nullptr;
};

class Stmt {
 public:
  Stmt(Db& db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v3(db.get(), sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr) !=
        SQLITE_OK) {
      db.fail("prepare");
    }
  }
  ~Stmt() { sqlite3_finalize(stmt_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  Stmt& text(int i, const std::string& s) {
    sqlite3_bind_text(stmt_, i, s.data(), static_cast<int>(s.size()), SQLITE_STATIC);
    return *this;
  }
  Stmt& integer(int i, std::int64_t v) {
    sqlite3_bind_int64(stmt_, i, v);
    return *this;
  }
  Stmt& expiry(int i, Ttl ttl) {
    if (ttl) {
      sqlite3_bind_int64(stmt_, i, expiry_ms(ttl));
    } else {
      sqlite3_bind_null(stmt_, i);
    }
    return *this;
  }
  // SQLITE_ROW or SQLITE_DONE; throws otherwise.
  int step() {
    int rc = sqlite3_step(stmt_);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
      sqlite3_reset(stmt_);
      db_.fail("step");
    }
    return rc;
  }
  void done() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  std::string_view column(int i) {
    auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, i));
    return {p ? p : "", static_cast<std::size_t>(sqlite3_column_bytes(stmt_, i))};
  }

 private:
  Db& db_;
  sqlite3_stmt* stmt_ = nullptr;
};

constexpr const char* kLive = "(expires_at IS NULL OR expires_at > ?)";

class SqliteSession final : public RawSession {
 public:
  SqliteSession(const std::string& path, Mode mode)
      : RawSession(mode),
        db_(path),
        get_(db_, (std::string("SELECT v FROM kvbench_raw WHERE k = ? AND ") + kLive).c_str()),
        set_(db_,
             "INSERT INTO kvbench_raw (k, v, expires_at) VALUES (?, ?, ?) ON CONFLICT (k) DO "
             "UPDATE SET v = excluded.v, expires_at = excluded.expires_at"),
        insert_if_absent_(db_,
                          "INSERT INTO kvbench_raw (k, v, expires_at) VALUES (?, ?, ?) ON "
                          "CONFLICT (k) DO UPDATE SET v = excluded.v, expires_at = "
                          "excluded.expires_at WHERE expires_at IS NOT NULL AND expires_at <= ?"),
        update_if_(db_, (std::string("UPDATE kvbench_raw SET v = ?, expires_at = ? WHERE k = ? "
                                     "AND v = ? AND ") +
                         kLive)
                            .c_str()),
        delete_if_(
            db_,
            (std::string("DELETE FROM kvbench_raw WHERE k = ? AND v = ? AND ") + kLive).c_str()),
        list_(db_, (std::string("SELECT k, v FROM kvbench_raw WHERE k > ? AND k < ? AND ") + kLive +
                    " ORDER BY k LIMIT ?")
                       .c_str()),
        begin_(db_, "BEGIN"),
        commit_(db_, "COMMIT") {}

  void load(std::size_t begin, std::size_t end, const ItemFn& item, Ttl ttl) override {
    KvKey key;
    const Doc* doc = nullptr;
    for (std::size_t i = begin; i < end;) {
      begin_.step();
      begin_.done();
      for (std::size_t n = 0; n < 5000 && i < end; ++n, ++i) {
        item(i, key, doc);
        std::string k = raw_key(key);
        set_.text(1, k).text(2, doc->text).expiry(3, ttl).step();
        set_.done();
      }
      commit_.step();
      commit_.done();
    }
  }

 protected:
  bool get_text(const std::string& key, std::string& out) override {
    get_.text(1, key).integer(2, now_ms());
    bool found = get_.step() == SQLITE_ROW;
    if (found) out.assign(get_.column(0));
    get_.done();
    return found;
  }
  void set_text(const std::string& key, const std::string& text, Ttl ttl) override {
    set_.text(1, key).text(2, text).expiry(3, ttl).step();
    set_.done();
  }
  bool cas_text(const std::string& key, const std::string* expected, const std::string* desired,
                Ttl ttl) override {
    std::int64_t now = now_ms();
    if (!expected) {
      if (!desired) return !get_text(key, scratch_);
      insert_if_absent_.text(1, key).text(2, *desired).expiry(3, ttl).integer(4, now).step();
      insert_if_absent_.done();
    } else if (desired) {
      update_if_.text(1, *desired).expiry(2, ttl).text(3, key).text(4, *expected).integer(5, now);
      update_if_.step();
      update_if_.done();
    } else {
      delete_if_.text(1, key).text(2, *expected).integer(3, now).step();
      delete_if_.done();
    }
    return sqlite3_changes(db_.get()) == 1;
  }
  void list_text(const std::string& begin, const std::string& end,
                 const std::function<void(std::string_view, std::string_view)>& entry) override {
    // The first page starts after the prefix itself (raw keys under it are longer).
    std::string after = begin.substr(0, begin.size() - 1);
    for (;;) {
      list_.text(1, after)
          .text(2, end)
          .integer(3, now_ms())
          .integer(4, static_cast<std::int64_t>(kRawListPage));
      std::size_t rows = 0;
      while (list_.step() == SQLITE_ROW) {
        ++rows;
        entry(list_.column(0), list_.column(1));
        if (rows == kRawListPage) after.assign(list_.column(0));
      }
      list_.done();
      if (rows < kRawListPage) return;
    }
  }

 private:
  Db db_;
  Stmt get_, set_, insert_if_absent_, update_if_, delete_if_, list_, begin_, commit_;
  std::string scratch_;
};

class SqliteBackend final : public Backend {
 public:
  SqliteBackend(std::string path, std::string where, bool owns_file)
      : path_(std::move(path)), where_(std::move(where)), owns_file_(owns_file) {
    reset();
  }
  ~SqliteBackend() override {
    if (owns_file_) {
      for (const char* suffix : {"", "-wal", "-shm"}) std::remove((path_ + suffix).c_str());
    }
  }
  std::string name() const override { return "raw-sqlite"; }
  std::string driver() const override { return "sqlite"; }
  bool raw() const override { return true; }
  std::string where() const override { return where_; }
  void reset() override {
    Db db(path_);
    db.exec("DROP TABLE IF EXISTS kvbench_raw");
    db.exec("CREATE TABLE kvbench_raw (k TEXT PRIMARY KEY, v TEXT NOT NULL, expires_at INTEGER)");
  }
  std::unique_ptr<Session> session(Mode mode) override {
    return std::make_unique<SqliteSession>(path_, mode);
  }

 private:
  std::string path_, where_;
  bool owns_file_;
};

}  // namespace

// "sqlite:<path>": the baseline uses its own file next to it, <path>.kvbench-raw,
// deleted at exit. "sqlite::memory:" uses a temporary file instead (an
// in-memory database cannot be shared by per-thread connections without
// shared-cache locking, which would not be a fair baseline).
std::unique_ptr<Backend> make_raw_sqlite(const std::string& url_text) {
  kvstore::Url url = kvstore::Url::parse(url_text);
  std::string path = url.path();
  if (path.empty() || path == ":memory:") {
    char tmpl[] = "/tmp/kvbench-raw-XXXXXX";
    int fd = mkstemp(tmpl);
    if (fd < 0) throw std::runtime_error("cannot create a temporary file");
    close(fd);
    path = tmpl;
  } else {
    path += ".kvbench-raw";
  }
  return std::make_unique<SqliteBackend>(path, "sqlite:" + path, true);
}

}  // namespace kvbench
