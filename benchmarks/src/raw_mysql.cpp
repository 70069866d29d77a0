// Raw baseline: MySQL Connector/C++ 1.1 (JDBC-like API) with the simplest
// equivalent schema,
//   CREATE TABLE kvbench_raw (k VARBINARY(1024) PRIMARY KEY, v LONGTEXT NOT NULL,
//                             expires_at BIGINT NULL) -- utf8mb4, InnoDB
// one connection per thread, prepared SELECT / INSERT ... ON DUPLICATE KEY
// UPDATE, conditional statements for cas and a keyset-paged range SELECT.
#include <cppconn/driver.h>
#include <cppconn/exception.h>
#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>
#include <cppconn/statement.h>

#include <istream>
#include <mutex>
#include <sstream>
#include <stdexcept>

#include "raw_common.h"

namespace kvbench {

namespace {

struct Endpoint {
  std::string host;  // "tcp://host:port"
  std::string user, password, schema;
};

sql::Driver* driver() {
  // get_driver_instance() is not thread-safe on first use.
  static std::once_flag once;
  static sql::Driver* instance = nullptr;
  std::call_once(once, [] { instance = get_driver_instance(); });
  return instance;
}

std::unique_ptr<sql::Connection> connect(const Endpoint& e) {
  std::unique_ptr<sql::Connection> c(driver()->connect(e.host, e.user, e.password));
  c->setSchema(e.schema);
  c->setAutoCommit(true);
  return c;
}

constexpr const char* kLive = "(expires_at IS NULL OR expires_at > ?)";

class MysqlSession final : public RawSession {
 public:
  MysqlSession(const Endpoint& e, Mode mode) : RawSession(mode) {
    driver()->threadInit();
    conn_ = connect(e);
    get_.reset(
        conn_->prepareStatement(std::string("SELECT v FROM kvbench_raw WHERE k = ? AND ") + kLive));
    set_.reset(conn_->prepareStatement(
        "INSERT INTO kvbench_raw (k, v, expires_at) VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE "
        "v = VALUES(v), expires_at = VALUES(expires_at)"));
    // Assignments run left to right: v is decided on the old expires_at, then expires_at.
    insert_if_absent_.reset(conn_->prepareStatement(
        "INSERT INTO kvbench_raw (k, v, expires_at) VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE "
        "v = IF(expires_at IS NOT NULL AND expires_at <= ?, VALUES(v), v), "
        "expires_at = IF(expires_at IS NOT NULL AND expires_at <= ?, VALUES(expires_at), "
        "expires_at)"));
    update_if_.reset(conn_->prepareStatement(
        std::string("UPDATE kvbench_raw SET v = ?, expires_at = ? WHERE k = ? AND v = ? AND ") +
        kLive));
    delete_if_.reset(conn_->prepareStatement(
        std::string("DELETE FROM kvbench_raw WHERE k = ? AND v = ? AND ") + kLive));
    list_.reset(conn_->prepareStatement(
        std::string("SELECT k, v FROM kvbench_raw WHERE k > ? AND k < ? AND ") + kLive +
        " ORDER BY k LIMIT " + std::to_string(kRawListPage)));
  }
  ~MysqlSession() override {
    get_.reset();
    set_.reset();
    insert_if_absent_.reset();
    update_if_.reset();
    delete_if_.reset();
    list_.reset();
    conn_.reset();
    driver()->threadEnd();
  }

  void load(std::size_t begin, std::size_t end, const ItemFn& item, Ttl ttl) override {
    KvKey key;
    const Doc* doc = nullptr;
    for (std::size_t i = begin; i < end;) {
      conn_->setAutoCommit(false);
      for (std::size_t n = 0; n < 5000 && i < end; ++n, ++i) {
        item(i, key, doc);
        set_->setString(1, raw_key(key));
        set_->setString(2, doc->text);
        bind_expiry(*set_, 3, ttl);
        set_->executeUpdate();
      }
      conn_->commit();
      conn_->setAutoCommit(true);
    }
  }

 protected:
  bool get_text(const std::string& key, std::string& out) override {
    get_->setString(1, key);
    get_->setInt64(2, now_ms());
    std::unique_ptr<sql::ResultSet> r(get_->executeQuery());
    if (!r->next()) return false;
    sql::SQLString v = r->getString(1);
    out.assign(v.c_str(), v.length());
    return true;
  }
  void set_text(const std::string& key, const std::string& text, Ttl ttl) override {
    set_->setString(1, key);
    set_->setString(2, text);
    bind_expiry(*set_, 3, ttl);
    set_->executeUpdate();
  }
  bool cas_text(const std::string& key, const std::string* expected, const std::string* desired,
                Ttl ttl) override {
    std::int64_t now = now_ms();
    if (!expected) {
      if (!desired) return !get_text(key, scratch_);
      insert_if_absent_->setString(1, key);
      insert_if_absent_->setString(2, *desired);
      bind_expiry(*insert_if_absent_, 3, ttl);
      insert_if_absent_->setInt64(4, now);
      insert_if_absent_->setInt64(5, now);
      // 1: inserted, 2: replaced an expired row, 0: a live row was there.
      return insert_if_absent_->executeUpdate() > 0;
    }
    if (desired) {
      update_if_->setString(1, *desired);
      bind_expiry(*update_if_, 2, ttl);
      update_if_->setString(3, key);
      update_if_->setString(4, *expected);
      update_if_->setInt64(5, now);
      return update_if_->executeUpdate() == 1;
    }
    delete_if_->setString(1, key);
    delete_if_->setString(2, *expected);
    delete_if_->setInt64(3, now);
    return delete_if_->executeUpdate() == 1;
  }
  void list_text(const std::string& begin, const std::string& end,
                 const std::function<void(std::string_view, std::string_view)>& entry) override {
    std::string after = begin.substr(0, begin.size() - 1);
    for (;;) {
      list_->setString(1, after);
      list_->setString(2, end);
      list_->setInt64(3, now_ms());
      std::unique_ptr<sql::ResultSet> r(list_->executeQuery());
      std::size_t rows = 0;
      while (r->next()) {
        ++rows;
        sql::SQLString k = r->getString(1);
        sql::SQLString v = r->getString(2);
        entry(std::string_view(k.c_str(), k.length()), std::string_view(v.c_str(), v.length()));
        if (rows == kRawListPage) after.assign(k.c_str(), k.length());
      }
      if (rows < kRawListPage) return;
    }
  }

 private:
  static void bind_expiry(sql::PreparedStatement& s, int i, Ttl ttl) {
    if (ttl) {
      s.setInt64(i, expiry_ms(ttl));
    } else {
      s.setNull(i, 0);
    }
  }

  std::unique_ptr<sql::Connection> conn_;
  std::unique_ptr<sql::PreparedStatement> get_, set_, insert_if_absent_, update_if_, delete_if_,
      list_;
  std::string scratch_;
};

class MysqlBackend final : public Backend {
 public:
  MysqlBackend(Endpoint e, std::string where) : endpoint_(std::move(e)), where_(std::move(where)) {
    reset();
  }
  ~MysqlBackend() override {
    try {
      auto c = connect(endpoint_);
      std::unique_ptr<sql::Statement> s(c->createStatement());
      s->execute("DROP TABLE IF EXISTS kvbench_raw");
    } catch (...) {
    }
  }
  std::string name() const override { return "raw-mysql"; }
  std::string driver() const override { return "mysql"; }
  bool raw() const override { return true; }
  std::string where() const override { return where_; }
  void reset() override {
    auto c = connect(endpoint_);
    std::unique_ptr<sql::Statement> s(c->createStatement());
    s->execute("DROP TABLE IF EXISTS kvbench_raw");
    s->execute(
        "CREATE TABLE kvbench_raw (k VARBINARY(1024) NOT NULL PRIMARY KEY, v LONGTEXT CHARACTER "
        "SET utf8mb4 COLLATE utf8mb4_bin NOT NULL, expires_at BIGINT NULL) ENGINE=InnoDB");
  }
  std::unique_ptr<Session> session(Mode mode) override {
    return std::make_unique<MysqlSession>(endpoint_, mode);
  }

 private:
  Endpoint endpoint_;
  std::string where_;
};

}  // namespace

std::unique_ptr<Backend> make_raw_mysql(const std::string& url_text) {
  kvstore::Url url = kvstore::Url::parse(url_text);
  Endpoint e;
  e.host = "tcp://" + (url.host().empty() ? std::string("127.0.0.1") : url.host()) + ":" +
           std::to_string(url.port().value_or(3306));
  e.user = url.user();
  e.password = url.password().value_or("");
  e.schema = url.path().size() > 1 ? url.path().substr(1) : "";
  if (e.schema.empty()) throw std::runtime_error("raw-mysql needs a database in the URL path");
  return std::make_unique<MysqlBackend>(e, url.redacted());
}

}  // namespace kvbench
