// Raw baseline: hiredis with the simplest equivalent commands — GET, SET with
// PX for a TTL, and a small Lua script (EVALSHA) for cas. One connection per
// thread. Keys are "kvbench_raw:" + the joined key. list is not offered: a
// plain Redis keyspace has no ordered prefix scan (SCAN visits the whole key
// space in no order), so the baseline reports it as n/a.
#include <hiredis/hiredis.h>

#include <stdexcept>
#include <vector>

#include "raw_common.h"

namespace kvbench {

namespace {

constexpr const char* kPrefix = "kvbench_raw:";

// KEYS[1]; ARGV: has_expected, expected, has_desired, desired, ttl_ms (0: none).
constexpr const char* kCasScript = R"lua(
local cur = redis.call('GET', KEYS[1])
if ARGV[1] == '1' then
  if cur ~= ARGV[2] then return 0 end
elseif cur then
  return 0
end
if ARGV[3] == '1' then
  if ARGV[5] ~= '0' then
    redis.call('SET', KEYS[1], ARGV[4], 'PX', ARGV[5])
  else
    redis.call('SET', KEYS[1], ARGV[4])
  end
else
  redis.call('DEL', KEYS[1])
end
return 1
)lua";

struct Endpoint {
  std::string host;
  int port;
  std::string user;
  std::optional<std::string> password;
  std::string db;
};

class Reply {
 public:
  explicit Reply(void* r) : r_(static_cast<redisReply*>(r)) {}
  ~Reply() {
    if (r_) freeReplyObject(r_);
  }
  Reply(const Reply&) = delete;
  Reply& operator=(const Reply&) = delete;
  redisReply* operator->() const { return r_; }
  redisReply* get() const { return r_; }

 private:
  redisReply* r_;
};

class Connection {
 public:
  explicit Connection(const Endpoint& e) {
    timeval tv{5, 0};
    ctx_ = redisConnectWithTimeout(e.host.c_str(), e.port, tv);
    if (!ctx_ || ctx_->err) {
      std::string msg = ctx_ ? ctx_->errstr : "out of memory";
      if (ctx_) redisFree(ctx_);
      throw std::runtime_error("redis connect " + e.host + ":" + std::to_string(e.port) + ": " +
                               msg);
    }
    if (e.password) {
      if (e.user.empty()) {
        check(command({"AUTH", *e.password}), "AUTH");
      } else {
        check(command({"AUTH", e.user, *e.password}), "AUTH");
      }
    }
    if (!e.db.empty() && e.db != "0") check(command({"SELECT", e.db}), "SELECT");
  }
  ~Connection() { redisFree(ctx_); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  Reply command(std::initializer_list<std::string_view> args) {
    argv_.clear();
    lens_.clear();
    for (auto a : args) {
      argv_.push_back(a.data());
      lens_.push_back(a.size());
    }
    void* r = redisCommandArgv(ctx_, static_cast<int>(argv_.size()), argv_.data(), lens_.data());
    if (!r) throw std::runtime_error(std::string("redis: ") + ctx_->errstr);
    return Reply(r);
  }
  Reply command_argv(const std::vector<const char*>& argv, const std::vector<std::size_t>& lens) {
    void* r = redisCommandArgv(ctx_, static_cast<int>(argv.size()),
                               const_cast<const char**>(argv.data()), lens.data());
    if (!r) throw std::runtime_error(std::string("redis: ") + ctx_->errstr);
    return Reply(r);
  }
  static void check(const Reply& r, const char* what) {
    if (r->type == REDIS_REPLY_ERROR) {
      throw std::runtime_error(std::string("redis ") + what + ": " + r->str);
    }
  }

 private:
  redisContext* ctx_ = nullptr;
  std::vector<const char*> argv_;
  std::vector<std::size_t> lens_;
};

class RedisSession final : public RawSession {
 public:
  RedisSession(const Endpoint& e, const std::string& cas_sha, Mode mode)
      : RawSession(mode), conn_(e), cas_sha_(cas_sha) {}

 protected:
  bool get_text(const std::string& key, std::string& out) override {
    full_key(key);
    Reply r = conn_.command({"GET", key_});
    Connection::check(r, "GET");
    if (r->type == REDIS_REPLY_NIL) return false;
    out.assign(r->str, r->len);
    return true;
  }
  void set_text(const std::string& key, const std::string& text, Ttl ttl) override {
    full_key(key);
    if (ttl) {
      std::string ms = std::to_string(ttl->count());
      Connection::check(conn_.command({"SET", key_, text, "PX", ms}), "SET");
    } else {
      Connection::check(conn_.command({"SET", key_, text}), "SET");
    }
  }
  bool cas_text(const std::string& key, const std::string* expected, const std::string* desired,
                Ttl ttl) override {
    full_key(key);
    std::string ms = ttl ? std::to_string(ttl->count()) : "0";
    Reply r = conn_.command({"EVALSHA", cas_sha_, "1", key_, expected ? "1" : "0",
                             expected ? std::string_view(*expected) : "", desired ? "1" : "0",
                             desired ? std::string_view(*desired) : "", ms});
    Connection::check(r, "EVALSHA");
    return r->type == REDIS_REPLY_INTEGER && r->integer == 1;
  }
  void list_text(const std::string&, const std::string&,
                 const std::function<void(std::string_view, std::string_view)>&) override {
    throw std::runtime_error("raw-redis has no ordered prefix listing");
  }

 private:
  void full_key(const std::string& key) {
    key_.assign(kPrefix);
    key_ += key;
  }
  Connection conn_;
  std::string cas_sha_;
  std::string key_;
};

class RedisBackend final : public Backend {
 public:
  RedisBackend(Endpoint e, std::string where) : endpoint_(std::move(e)), where_(std::move(where)) {
    Connection c(endpoint_);
    Reply r = c.command({"SCRIPT", "LOAD", kCasScript});
    Connection::check(r, "SCRIPT LOAD");
    cas_sha_.assign(r->str, r->len);
    reset();
  }
  ~RedisBackend() override {
    try {
      reset();
    } catch (...) {
    }
  }
  std::string name() const override { return "raw-redis"; }
  std::string driver() const override { return "redis"; }
  bool raw() const override { return true; }
  std::string where() const override { return where_; }
  bool supports(OpKind op) const override {
    return op == OpKind::get || op == OpKind::set || op == OpKind::cas;
  }
  // Deletes the baseline's keys (SCAN + UNLINK; other keys are left alone).
  void reset() override {
    Connection c(endpoint_);
    std::string cursor = "0";
    std::string pattern = std::string(kPrefix) + "*";
    do {
      Reply r = c.command({"SCAN", cursor, "MATCH", pattern, "COUNT", "10000"});
      Connection::check(r, "SCAN");
      cursor.assign(r->element[0]->str, r->element[0]->len);
      redisReply* keys = r->element[1];
      if (keys->elements == 0) continue;
      std::vector<const char*> argv{"UNLINK"};
      std::vector<std::size_t> lens{6};
      for (std::size_t i = 0; i < keys->elements; ++i) {
        argv.push_back(keys->element[i]->str);
        lens.push_back(keys->element[i]->len);
      }
      Connection::check(c.command_argv(argv, lens), "UNLINK");
    } while (cursor != "0");
  }
  std::unique_ptr<Session> session(Mode mode) override {
    return std::make_unique<RedisSession>(endpoint_, cas_sha_, mode);
  }

 private:
  Endpoint endpoint_;
  std::string where_;
  std::string cas_sha_;
};

}  // namespace

std::unique_ptr<Backend> make_raw_redis(const std::string& url_text) {
  kvstore::Url url = kvstore::Url::parse(url_text);
  if (url.scheme() != "redis") throw std::runtime_error("raw-redis needs a redis:// URL");
  Endpoint e;
  e.host = url.host().empty() ? "127.0.0.1" : url.host();
  e.port = url.port().value_or(6379);
  e.user = url.user();
  e.password = url.password();
  e.db = url.path().size() > 1 ? url.path().substr(1) : "0";
  return std::make_unique<RedisBackend>(e, url.redacted());
}

}  // namespace kvbench
