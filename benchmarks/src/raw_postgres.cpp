// Raw baseline: libpqxx with the simplest equivalent schema,
//   CREATE TABLE kvbench_raw (k text COLLATE "C" PRIMARY KEY, v text NOT NULL, expires_at bigint)
// one connection per thread, prepared SELECT / INSERT ... ON CONFLICT upsert,
// conditional statements for cas and a keyset-paged range SELECT for list,
// each in its own implicit transaction (pqxx::nontransaction).
#include <pqxx/pqxx>

#include <stdexcept>

#include "raw_common.h"

namespace kvbench {

namespace {

std::string quote_conninfo(const std::string& value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

// Calls f with the expires_at parameter: NULL (no TTL) or the absolute expiry in ms.
template <class F>
pqxx::result with_expiry(Ttl ttl, F&& f) {
  if (!ttl) return f(nullptr);
  return f(static_cast<long long>(expiry_ms(ttl)));
}

constexpr const char* kLive = "(expires_at IS NULL OR expires_at > $2)";

class PgSession final : public RawSession {
 public:
  PgSession(const std::string& conninfo, Mode mode) : RawSession(mode), conn_(conninfo) {
    conn_.prepare("get", std::string("SELECT v FROM kvbench_raw WHERE k = $1 AND ") + kLive);
    conn_.prepare("set",
                  "INSERT INTO kvbench_raw (k, v, expires_at) VALUES ($1, $2, $3) ON CONFLICT (k) "
                  "DO UPDATE SET v = EXCLUDED.v, expires_at = EXCLUDED.expires_at");
    conn_.prepare("insert_if_absent",
                  "INSERT INTO kvbench_raw AS t (k, v, expires_at) VALUES ($1, $3, $4) ON "
                  "CONFLICT (k) DO UPDATE SET v = EXCLUDED.v, expires_at = EXCLUDED.expires_at "
                  "WHERE t.expires_at IS NOT NULL AND t.expires_at <= $2");
    conn_.prepare("update_if", std::string("UPDATE kvbench_raw SET v = $4, expires_at = $5 "
                                           "WHERE k = $1 AND v = $3 AND ") +
                                   kLive);
    conn_.prepare("delete_if",
                  std::string("DELETE FROM kvbench_raw WHERE k = $1 AND v = $3 AND ") + kLive);
    conn_.prepare("list", std::string("SELECT k, v FROM kvbench_raw WHERE k > $1 AND k < $3 AND ") +
                              kLive + " ORDER BY k LIMIT $4");
  }

  void load(std::size_t begin, std::size_t end, const ItemFn& item, Ttl ttl) override {
    KvKey key;
    const Doc* doc = nullptr;
    for (std::size_t i = begin; i < end;) {
      pqxx::work tx(conn_);
      for (std::size_t n = 0; n < 5000 && i < end; ++n, ++i) {
        item(i, key, doc);
        with_expiry(ttl,
                    [&](auto e) { return tx.exec_prepared("set", raw_key(key), doc->text, e); });
      }
      tx.commit();
    }
  }

 protected:
  bool get_text(const std::string& key, std::string& out) override {
    pqxx::nontransaction tx(conn_);
    pqxx::result r = tx.exec_prepared("get", key, static_cast<long long>(now_ms()));
    if (r.empty()) return false;
    out.assign(r[0][0].c_str(), r[0][0].size());
    return true;
  }
  void set_text(const std::string& key, const std::string& text, Ttl ttl) override {
    pqxx::nontransaction tx(conn_);
    with_expiry(ttl, [&](auto e) { return tx.exec_prepared("set", key, text, e); });
  }
  bool cas_text(const std::string& key, const std::string* expected, const std::string* desired,
                Ttl ttl) override {
    pqxx::nontransaction tx(conn_);
    pqxx::result r;
    if (!expected) {
      if (!desired) return !get_text(key, scratch_);
      r = with_expiry(ttl, [&](auto e) {
        return tx.exec_prepared("insert_if_absent", key, static_cast<long long>(now_ms()), *desired,
                                e);
      });
    } else if (desired) {
      r = with_expiry(ttl, [&](auto e) {
        return tx.exec_prepared("update_if", key, static_cast<long long>(now_ms()), *expected,
                                *desired, e);
      });
    } else {
      r = tx.exec_prepared("delete_if", key, static_cast<long long>(now_ms()), *expected);
    }
    return r.affected_rows() == 1;
  }
  void list_text(const std::string& begin, const std::string& end,
                 const std::function<void(std::string_view, std::string_view)>& entry) override {
    std::string after = begin.substr(0, begin.size() - 1);
    for (;;) {
      pqxx::nontransaction tx(conn_);
      pqxx::result r = tx.exec_prepared("list", after, static_cast<long long>(now_ms()), end,
                                        static_cast<long>(kRawListPage));
      for (const auto& row : r) {
        entry(std::string_view(row[0].c_str(), row[0].size()),
              std::string_view(row[1].c_str(), row[1].size()));
      }
      if (r.size() < kRawListPage) return;
      after = r[r.size() - 1][0].c_str();
    }
  }

 private:
  pqxx::connection conn_;
  std::string scratch_;
};

class PgBackend final : public Backend {
 public:
  PgBackend(std::string conninfo, std::string where)
      : conninfo_(std::move(conninfo)), where_(std::move(where)) {
    reset();
  }
  ~PgBackend() override {
    try {
      pqxx::connection c(conninfo_);
      pqxx::nontransaction tx(c);
      tx.exec("DROP TABLE IF EXISTS kvbench_raw");
    } catch (...) {
    }
  }
  std::string name() const override { return "raw-postgres"; }
  std::string driver() const override { return "postgres"; }
  bool raw() const override { return true; }
  std::string where() const override { return where_; }
  void reset() override {
    pqxx::connection c(conninfo_);
    pqxx::nontransaction tx(c);
    tx.exec("SET client_min_messages = warning");
    tx.exec("DROP TABLE IF EXISTS kvbench_raw");
    tx.exec(
        "CREATE TABLE kvbench_raw (k text COLLATE \"C\" PRIMARY KEY, v text NOT NULL, "
        "expires_at bigint)");
  }
  std::unique_ptr<Session> session(Mode mode) override {
    return std::make_unique<PgSession>(conninfo_, mode);
  }

 private:
  std::string conninfo_, where_;
};

}  // namespace

std::unique_ptr<Backend> make_raw_postgres(const std::string& url_text) {
  kvstore::Url url = kvstore::Url::parse(url_text);
  std::string conninfo;
  auto add = [&](const char* name, const std::string& value) {
    if (!value.empty()) conninfo += std::string(name) + "=" + quote_conninfo(value) + " ";
  };
  add("host", url.host());
  if (url.port()) add("port", std::to_string(*url.port()));
  add("user", url.user());
  if (url.password()) add("password", *url.password());
  add("dbname", url.path().size() > 1 ? url.path().substr(1) : "");
  return std::make_unique<PgBackend>(conninfo, url.redacted());
}

}  // namespace kvbench
