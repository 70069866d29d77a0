// The Redis driver. Layout, scripts and costs: docs/drivers/redis.md.
#include <kvstore/redis.h>

// hiredis 0.14's sds.h has no C++ guard and hiredis.h includes it outside its
// own, so it is included first, with C linkage.
extern "C" {
#include <hiredis/sds.h>
}
#include <hiredis/hiredis.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <kvstore/deadline.h>
#include <kvstore/driver.h>

namespace kvstore::redis {

namespace {

using std::chrono::milliseconds;
using namespace std::chrono_literals;

constexpr const char* kDriver = "redis";

// Keys (KEYS[1] value key, KEYS[2] index, KEYS[3] expiry set) and
// ARGV: 1 member (encoded key), 2 expectation ('n' none, 'a' absent,
// 'e' equal to ARGV[3]), 4 action ('s' store ARGV[5], 'd' delete),
// 6 ttl in ms or '', 7 the value-key prefix (to sweep other members).
// Returns 1 if it wrote, 0 if the expectation failed.
//
// The value key, its index member and its expiry member change together in
// one script, so readers and cas never see them disagree except for a value
// key Redis has expired on its own, which every reader treats as absent.
// Each write also forgets a few index members whose values expired over a
// second ago (the slack covers the millisecond between TIME and PX), so the
// index does not grow with keys that expired and were never listed.
constexpr std::string_view kWriteScript = R"lua(
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

// KEYS[1] index, KEYS[2] expiry set; ARGV: 1 value-key prefix, 2 first
// member (inclusive, '' = from the start), 3 end (exclusive, '' = to the
// last), 4 how many live entries to return, 5 how many dead members to drop
// before giving up for this call.
// Returns {resume, member1, value1, member2, value2, ...}: resume is '' when
// the page is full or the range exhausted, else the last member examined
// (the caller continues strictly after it). Members whose value key is gone
// (expired or deleted behind our back) are dropped from the index here.
constexpr std::string_view kListScript = R"lua(
local idx, exp, prefix = KEYS[1], KEYS[2], ARGV[1]
local first = '-'
if ARGV[2] ~= '' then first = '[' .. ARGV[2] end
local last = '+'
if ARGV[3] ~= '' then last = '(' .. ARGV[3] end
local want = tonumber(ARGV[4])
local budget = tonumber(ARGV[5])
local out = {''}
local found = 0
while found < want do
  local batch = want - found
  local members = redis.call('ZRANGEBYLEX', idx, first, last, 'LIMIT', 0, batch)
  for _, m in ipairs(members) do
    local v = redis.call('GET', prefix .. m)
    if v then
      out[#out + 1] = m
      out[#out + 1] = v
      found = found + 1
    else
      redis.call('ZREM', idx, m)
      redis.call('ZREM', exp, m)
      budget = budget - 1
    end
  end
  if #members < batch then break end
  if found < want and budget <= 0 then
    out[1] = members[#members]
    break
  end
  first = '(' .. members[#members]
end
return out
)lua";

// Dead index members one list call may drop before returning what it has.
constexpr int kListDeadBudget = 1000;

struct Config {
  bool unix_socket = false;
  std::string host = "127.0.0.1";
  int port = 6379;
  std::string socket_path;
  std::int64_t db = 0;
  std::string user;
  std::optional<std::string> password;
  std::string prefix = "kvstore";
  std::size_t pool_size = 8;
  milliseconds connect_timeout{1000};
  milliseconds command_timeout{5000};
  std::string redacted_url;
};

struct ContextDeleter {
  void operator()(redisContext* c) const { redisFree(c); }
};
using ContextPtr = std::unique_ptr<redisContext, ContextDeleter>;

struct ReplyDeleter {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using ReplyPtr = std::unique_ptr<redisReply, ReplyDeleter>;

// Negative durations become zero; whole seconds and microseconds are split
// by division, so no value overflows on the way.
timeval to_timeval(milliseconds ms) {
  const std::int64_t count = std::max<std::int64_t>(ms.count(), 0);
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(count / 1000);
  tv.tv_usec = static_cast<suseconds_t>((count % 1000) * 1000);
  return tv;
}

std::string ms_text(milliseconds ms) { return std::to_string(ms.count()) + " ms"; }

// hiredis puts strerror(errno) into errstr (sometimes after "prefix: "), and
// errno itself may have been overwritten by the time it returns, so the
// error number is recovered from the text. 0 if it is not one of these.
int errno_of(const char* errstr) {
  const std::string_view text(errstr);
  for (int e :
       {EAGAIN, ETIMEDOUT, ECONNREFUSED, ECONNRESET, ECONNABORTED, EPIPE, EHOSTUNREACH, EHOSTDOWN,
        ENETUNREACH, ENETDOWN, ENOENT, ENOTDIR, EACCES, EPERM, EADDRNOTAVAIL, EINTR}) {
    const std::string name = std::strerror(e);
    if (text == name || text.ends_with(": " + name)) return e;
  }
  return 0;
}

// What an error number means for a connection, in words a reader of a log
// can act on; strerror's text only for numbers no connection expects.
std::string describe_errno(int e) {
  switch (e) {
    case ECONNREFUSED:
      return "connection refused (is Redis running there?)";
    case ECONNRESET:
      return "the server reset the connection";
    case EPIPE:
      return "the server closed the connection";
    case ECONNABORTED:
      return "the connection was aborted";
    case ETIMEDOUT:
      return "the network stopped answering (TCP timed out)";
    case EHOSTUNREACH:
    case EHOSTDOWN:
      return "no route to the host";
    case ENETUNREACH:
    case ENETDOWN:
      return "the network is unreachable";
    case ENOENT:
    case ENOTDIR:
      return "no socket exists at that path";
    case EACCES:
    case EPERM:
      return "permission denied";
    case EADDRNOTAVAIL:
      return "no local address or port is free for a new connection";
    case 0:
      return "connection lost";
    default:
      return std::string("system error ") + std::to_string(e) + " (" + std::strerror(e) + ")";
  }
}

// One command's arguments, pointing into strings the caller keeps alive.
class Command {
 public:
  Command& arg(std::string_view a) {
    argv_.push_back(a.data());
    lens_.push_back(a.size());
    return *this;
  }
  int argc() const { return static_cast<int>(argv_.size()); }
  const char** argv() { return argv_.data(); }
  const size_t* lens() const { return lens_.data(); }
  void replace(std::size_t i, std::string_view a) {
    argv_[i] = a.data();
    lens_[i] = a.size();
  }

 private:
  std::vector<const char*> argv_;
  std::vector<size_t> lens_;
};

// How a command that got no reply failed.
enum class Transport { timeout, broken };

struct TransportError {
  Transport kind = Transport::broken;
  std::string what;  // a whole sentence, naming the command and the redacted URL
};

// Marks `c` broken the way hiredis does, so it is dropped, never reused.
void set_broken(redisContext* c, int error_number) {
  c->err = REDIS_ERR_IO;
  std::snprintf(c->errstr, sizeof c->errstr, "%s", std::strerror(error_number));
}

// Where a command was sent and how long each socket read or write may take.
struct Peer {
  const std::string& redacted_url;
  milliseconds timeout;
};

// Says what happened to `label` (the command, e.g. "GET" or "AUTH") on
// `peer`: an expired SO_SNDTIMEO/SO_RCVTIMEO shows up as EAGAIN, which
// strerror would render as "Resource temporarily unavailable".
TransportError describe_failure(const Peer& peer, std::string_view label, bool sending,
                                int error_number, int hiredis_error, const char* errstr) {
  const std::string command(label);
  if (hiredis_error == REDIS_ERR_IO && error_number == EAGAIN) {
    return {Transport::timeout, sending
                                    ? "timed out sending " + command + " to " + peer.redacted_url +
                                          " after " + ms_text(peer.timeout)
                                    : "timed out waiting for the reply to " + command + " from " +
                                          peer.redacted_url + " after " + ms_text(peer.timeout)};
  }
  const std::string doing = sending ? "sending " + command : "waiting for the reply to " + command;
  std::string why;
  switch (hiredis_error) {
    case REDIS_ERR_EOF:
      why = "the server closed the connection";
      break;
    case REDIS_ERR_PROTOCOL:
      why = std::string("the reply is not valid Redis protocol (") + errstr + ")";
      break;
    case REDIS_ERR_OOM:
      why = "out of memory";
      break;
    default:
      why = describe_errno(error_number);
      break;
  }
  return {Transport::broken,
          "lost the connection to " + peer.redacted_url + " while " + doing + ": " + why};
}

// Sends `cmd` and reads its reply. nullptr means the connection failed; the
// context then has err set and must be dropped. `error` says why.
//
// The request is written here with send(MSG_NOSIGNAL) rather than by
// hiredis, whose write(2) raises SIGPIPE on a connection the server closed
// and would kill a process that does not ignore SIGPIPE. hiredis formats it
// into c->obuf (a public member) and, finding obuf empty, only reads.
ReplyPtr exchange(redisContext* c, Command& cmd, std::string_view label, const Peer& peer,
                  TransportError& error) {
  if (redisAppendCommandArgv(c, cmd.argc(), cmd.argv(), cmd.lens()) != REDIS_OK) {
    error = {Transport::broken, "cannot send " + std::string(label) + " to " + peer.redacted_url +
                                    ": out of memory formatting the request"};
    return nullptr;
  }
  int failure = 0;
  const std::size_t length = sdslen(c->obuf);
  std::size_t sent = 0;
  while (sent < length) {
    ssize_t n = ::send(c->fd, c->obuf + sent, length - sent, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      failure = errno;
      break;
    }
    sent += static_cast<std::size_t>(n);
  }
  if (length > (64u << 10)) {
    // Do not keep a large value's buffer for the connection's lifetime.
    sdsfree(c->obuf);
    c->obuf = sdsempty();
  } else {
    sdsclear(c->obuf);
  }
  if (failure != 0) {
    set_broken(c, failure);
    error = describe_failure(peer, label, /*sending=*/true,
                             failure == EWOULDBLOCK ? EAGAIN : failure, REDIS_ERR_IO, c->errstr);
    return nullptr;
  }
  void* reply = nullptr;
  if (redisGetReply(c, &reply) != REDIS_OK || reply == nullptr) {
    const int saved = errno;
    int error_number = 0;
    if (c->err == REDIS_ERR_IO) {
      error_number = errno_of(c->errstr);
      if (error_number == 0) error_number = saved;
      if (error_number == EWOULDBLOCK) error_number = EAGAIN;
    }
    error = describe_failure(peer, label, /*sending=*/false, error_number, c->err, c->errstr);
    if (c->err == 0) set_broken(c, EPIPE);
    return nullptr;
  }
  return ReplyPtr(static_cast<redisReply*>(reply));
}

bool starts_with_word(std::string_view text, std::string_view word) {
  return text.size() >= word.size() && text.compare(0, word.size(), word) == 0 &&
         (text.size() == word.size() || text[word.size()] == ' ');
}

// The ErrorCode for a Redis error reply.
ErrorCode code_for_reply(std::string_view message, bool& retryable) {
  retryable = false;
  for (std::string_view word : {"NOAUTH", "WRONGPASS", "NOPERM"}) {
    if (starts_with_word(message, word)) return ErrorCode::permission_denied;
  }
  for (std::string_view word :
       {"LOADING", "BUSY", "MASTERDOWN", "TRYAGAIN", "CLUSTERDOWN", "READONLY"}) {
    if (starts_with_word(message, word)) {
      retryable = true;
      return ErrorCode::unavailable;
    }
  }
  if (starts_with_word(message, "OOM")) return ErrorCode::limit_exceeded;
  if (starts_with_word(message, "WRONGTYPE")) return ErrorCode::corrupt;
  if (message.find("max number of clients") != std::string_view::npos) {
    retryable = true;
    return ErrorCode::unavailable;
  }
  return ErrorCode::internal;
}

// A live connection the server has not closed: nothing to read yet. A reused
// connection whose server restarted reads EOF here, so it is replaced before
// a command is risked on it.
bool looks_alive(const redisContext* c) {
  char byte;
  ssize_t n = recv(c->fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

class RedisStore final : public Driver {
 public:
  explicit RedisStore(Config config)
      : Driver(kDriver, Capabilities{.persistent = true, .shared = true, .server_clock = true}),
        config_(std::move(config)) {
    const std::string tag = std::to_string(config_.prefix.size()) + ":" + config_.prefix;
    value_prefix_ = tag + ":v:";
    index_key_ = tag + ":i";
    expiry_key_ = tag + ":x";
    // No I/O here: the first call connects and loads the scripts.
  }

  ~RedisStore() override = default;

 protected:
  std::optional<std::string> do_get(const std::string& key) override {
    const std::string vkey = value_prefix_ + key;
    Command cmd;
    cmd.arg("GET").arg(vkey);
    ReplyPtr reply = call(cmd, "GET", /*idempotent=*/true);
    if (reply->type == REDIS_REPLY_NIL) return std::nullopt;
    if (reply->type != REDIS_REPLY_STRING) unexpected("GET");
    return std::string(reply->str, reply->len);
  }

  void do_set(const std::string& key, std::string_view json, Ttl ttl) override {
    write(key, 'n', {}, json, ttl, /*idempotent=*/true);
  }

  void do_remove(const std::string& key) override {
    write(key, 'n', {}, std::nullopt, std::nullopt, /*idempotent=*/true);
  }

  bool do_swap(const std::string& key, std::optional<std::string_view> expected,
               std::optional<std::string_view> desired, Ttl ttl) override {
    // Not idempotent: a swap whose reply was lost may have happened, so it
    // is never retried here; the caller sees unavailable and decides.
    return write(key, expected ? 'e' : 'a', expected.value_or(std::string_view{}), desired, ttl,
                 /*idempotent=*/false);
  }

  // Connects, authenticates, selects the database and loads the scripts.
  void do_ping() override {
    ensure_scripts();
    (void)do_get(encode_key({"kvstore", "ping"}));
  }

  std::vector<StoredEntry> do_list(const KeyRange& range, std::size_t limit) override {
    ensure_scripts();
    std::vector<StoredEntry> page;
    std::string begin = range.begin;
    const std::string end = range.end.value_or(std::string{});
    const std::string budget = std::to_string(kListDeadBudget);
    while (page.size() < limit) {
      const std::string want = std::to_string(limit - page.size());
      Command cmd;
      cmd.arg("EVALSHA").arg(list_sha_).arg("2").arg(index_key_).arg(expiry_key_);
      cmd.arg(value_prefix_).arg(begin).arg(end).arg(want).arg(budget);
      ReplyPtr reply = call(cmd, "the list script", /*idempotent=*/true, kListScript);
      if (reply->type != REDIS_REPLY_ARRAY || reply->elements % 2 != 1) unexpected("list script");
      for (std::size_t i = 1; i + 1 < reply->elements; i += 2) {
        const redisReply* k = reply->element[i];
        const redisReply* v = reply->element[i + 1];
        if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING) {
          unexpected("list script");
        }
        page.push_back({std::string(k->str, k->len), std::string(v->str, v->len)});
      }
      const redisReply* resume = reply->element[0];
      if (resume->type != REDIS_REPLY_STRING || resume->len == 0) break;
      // Too many dead members in a row: go on strictly after the last one.
      begin.assign(resume->str, resume->len);
      begin += '\x01';
    }
    return page;
  }

 private:
  // A connection borrowed from the pool for one call.
  class Lease {
   public:
    Lease(RedisStore* store, ContextPtr context, bool reused)
        : store_(store), context_(std::move(context)), reused_(reused) {}
    Lease(Lease&& other) noexcept = default;
    Lease& operator=(Lease&&) = delete;
    ~Lease() {
      if (context_) store_->give_back(std::move(context_));
    }
    redisContext* get() const { return context_.get(); }
    bool reused() const { return reused_; }

   private:
    RedisStore* store_;
    ContextPtr context_;
    bool reused_;
  };

  bool write(const std::string& key, char expect, std::string_view expected,
             std::optional<std::string_view> desired, Ttl ttl, bool idempotent) {
    const std::string vkey = value_prefix_ + key;
    const std::string ttl_text = ttl ? std::to_string(ttl->count()) : std::string{};
    const char expect_arg[1] = {expect};
    ensure_scripts();
    Command cmd;
    cmd.arg("EVALSHA").arg(write_sha_).arg("3").arg(vkey).arg(index_key_).arg(expiry_key_);
    cmd.arg(key).arg(std::string_view(expect_arg, 1)).arg(expected);
    cmd.arg(desired ? "s" : "d").arg(desired.value_or(std::string_view{})).arg(ttl_text);
    cmd.arg(value_prefix_);
    ReplyPtr reply = call(cmd, "the write script", idempotent, kWriteScript);
    if (reply->type != REDIS_REPLY_INTEGER) unexpected("write script");
    return reply->integer == 1;
  }

  // Runs `cmd` (`label` in messages) on a pooled connection and returns its
  // (non-error) reply. For an EVALSHA, `script` is its body, sent with EVAL
  // if the server has lost its script cache (restart, SCRIPT FLUSH); EVAL
  // caches it again.
  ReplyPtr call(Command& cmd, std::string_view label, bool idempotent,
                std::string_view script = {}) {
    for (int attempt = 0;; ++attempt) {
      // Idempotent calls are retried after a broken reused connection
      // instead; a swap checks the connection first.
      Lease lease = acquire(/*check_alive=*/!idempotent);
      TransportError error;
      ReplyPtr reply = exchange(lease.get(), cmd, label, peer(), error);
      if (reply && reply->type == REDIS_REPLY_ERROR && !script.empty() &&
          starts_with_word(std::string_view(reply->str, reply->len), "NOSCRIPT")) {
        const std::string_view sha(cmd.argv()[1], cmd.lens()[1]);
        cmd.replace(0, "EVAL");
        cmd.replace(1, script);
        reply = exchange(lease.get(), cmd, label, peer(), error);
        cmd.replace(0, "EVALSHA");
        cmd.replace(1, sha);
      }
      if (reply) {
        if (reply->type == REDIS_REPLY_ERROR) fail_reply(reply.get());
        return reply;
      }
      const bool reused = lease.reused();
      { Lease dropped = std::move(lease); }  // returns nothing: the context has err set
      if (error.kind == Transport::timeout) {
        throw Error(ErrorCode::timeout, error.what, kDriver, true);
      }
      // The server went away: every idle connection probably broke with it.
      drop_idle();
      if (idempotent && reused && attempt == 0) continue;
      throw Error(ErrorCode::unavailable, error.what, kDriver, true);
    }
  }

  [[noreturn]] void fail_reply(const redisReply* reply) const {
    std::string message(reply->str, reply->len);
    bool retryable = false;
    ErrorCode code = code_for_reply(message, retryable);
    throw Error(code, "Redis replied: " + message, kDriver, retryable);
  }

  [[noreturn]] void unexpected(const char* what) const {
    fail(ErrorCode::internal, std::string("unexpected reply type to ") + what);
  }

  // Loads the scripts on first use (the store connects lazily).
  void ensure_scripts() {
    if (scripts_ready_.load(std::memory_order_acquire)) return;
    std::lock_guard lock(script_mutex_);
    if (scripts_ready_.load(std::memory_order_relaxed)) return;
    Lease lease = acquire();
    write_sha_ = load_script(lease, kWriteScript);
    list_sha_ = load_script(lease, kListScript);
    scripts_ready_.store(true, std::memory_order_release);
  }

  std::string load_script(Lease& lease, std::string_view body) {
    Command cmd;
    cmd.arg("SCRIPT").arg("LOAD").arg(body);
    TransportError error;
    ReplyPtr reply = exchange(lease.get(), cmd, "SCRIPT LOAD", peer(), error);
    if (!reply) throw transport_error(error);
    if (reply->type == REDIS_REPLY_ERROR) fail_reply(reply.get());
    if (reply->type != REDIS_REPLY_STRING) unexpected("SCRIPT LOAD");
    return std::string(reply->str, reply->len);
  }

  Peer peer() const { return {config_.redacted_url, config_.command_timeout}; }

  static Error transport_error(const TransportError& error) {
    return Error(error.kind == Transport::timeout ? ErrorCode::timeout : ErrorCode::unavailable,
                 error.what, kDriver, true);
  }

  // --- The pool ---------------------------------------------------------

  // A connection; `check_alive` first makes sure a reused one has not been
  // closed by the server (one non-blocking recv).
  Lease acquire(bool check_alive = true) {
    std::unique_lock lock(mutex_);
    const auto deadline = deadline_after(config_.command_timeout);
    for (;;) {
      if (!idle_.empty()) {
        ContextPtr context = std::move(idle_.back());
        idle_.pop_back();
        lock.unlock();
        if (!check_alive || looks_alive(context.get())) {
          return Lease(this, std::move(context), true);
        }
        context.reset();
        return Lease(this, connect_in_slot(), false);  // keeps the dead one's slot
      }
      if (open_ < config_.pool_size) {
        ++open_;
        lock.unlock();
        return Lease(this, connect_in_slot(), false);
      }
      if (available_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() &&
          open_ >= config_.pool_size) {
        throw Error(ErrorCode::timeout,
                    "no pooled connection became free within " + ms_text(config_.command_timeout) +
                        " (pool_size=" + std::to_string(config_.pool_size) + ")",
                    kDriver, true);
      }
    }
  }

  // Connects for a slot already counted in open_; gives the slot back if
  // that fails.
  ContextPtr connect_in_slot() {
    try {
      return connect();
    } catch (...) {
      std::lock_guard lock(mutex_);
      --open_;
      available_.notify_one();
      throw;
    }
  }

  void give_back(ContextPtr context) {
    std::lock_guard lock(mutex_);
    if (context->err == 0) {
      idle_.push_back(std::move(context));
    } else {
      context.reset();
      --open_;
    }
    available_.notify_one();
  }

  void drop_idle() {
    std::vector<ContextPtr> dropped;
    {
      std::lock_guard lock(mutex_);
      dropped.swap(idle_);
      open_ -= dropped.size();
      available_.notify_all();
    }
  }

  // Both timeouts are at least 1ms (checked at parse), so every connect and
  // every socket read or write is bounded.
  ContextPtr connect() {
    const timeval connect_tv = to_timeval(config_.connect_timeout);
    const auto start = std::chrono::steady_clock::now();
    redisContext* raw =
        config_.unix_socket
            ? redisConnectUnixWithTimeout(config_.socket_path.c_str(), connect_tv)
            : redisConnectWithTimeout(config_.host.c_str(), config_.port, connect_tv);
    if (raw == nullptr) fail(ErrorCode::internal, "out of memory creating a Redis connection");
    ContextPtr context(raw);
    if (context->err != 0) fail_connect(*context, std::chrono::steady_clock::now() - start);
    if (redisSetTimeout(context.get(), to_timeval(config_.command_timeout)) != REDIS_OK) {
      throw Error(ErrorCode::unavailable,
                  "cannot set the socket timeouts of a connection to " + config_.redacted_url +
                      ": " + context->errstr,
                  kDriver, true);
    }
    if (!config_.unix_socket) redisEnableKeepAlive(context.get());
    if (config_.password) {
      Command auth;
      auth.arg("AUTH");
      if (!config_.user.empty()) auth.arg(config_.user);
      auth.arg(*config_.password);
      handshake(context.get(), auth, "AUTH");
    }
    if (config_.db != 0) {
      const std::string db = std::to_string(config_.db);
      Command select;
      select.arg("SELECT").arg(db);
      handshake(context.get(), select, "SELECT");
    }
    return context;
  }

  // A failed connect: a timeout if connect_timeout ran out, else what the
  // system said, in words (hiredis' errstr is strerror's text).
  [[noreturn]] void fail_connect(const redisContext& context,
                                 std::chrono::steady_clock::duration elapsed) const {
    const std::string& url = config_.redacted_url;
    const int error_number = context.err == REDIS_ERR_IO ? errno_of(context.errstr) : 0;
    if (error_number == ETIMEDOUT || error_number == EAGAIN) {
      const auto waited = std::chrono::duration_cast<milliseconds>(elapsed);
      throw Error(ErrorCode::timeout,
                  "timed out connecting to " + url + " after " + ms_text(waited) +
                      " (connect_timeout=" + ms_text(config_.connect_timeout) + ")",
                  kDriver, true);
    }
    if (error_number == EACCES || error_number == EPERM) {
      // A socket file this process may not use: retrying will not help.
      throw Error(ErrorCode::permission_denied,
                  "cannot connect to " + url + ": " + describe_errno(error_number), kDriver, false);
    }
    if (error_number != 0) {
      throw Error(ErrorCode::unavailable,
                  "cannot connect to " + url + ": " + describe_errno(error_number), kDriver, true);
    }
    // Name resolution (getaddrinfo's own words) and anything else hiredis says.
    throw Error(ErrorCode::unavailable, "cannot connect to " + url + ": " + context.errstr, kDriver,
                true);
  }

  // AUTH or SELECT on a new connection. A refusal is a configuration error
  // (wrong credentials, a database the server does not have), which no retry
  // fixes, unless Redis says it is busy or loading.
  void handshake(redisContext* context, Command& cmd, const char* what) {
    TransportError error;
    ReplyPtr reply = exchange(context, cmd, what, peer(), error);
    if (!reply) throw transport_error(error);
    if (reply->type != REDIS_REPLY_ERROR) return;
    const std::string message(reply->str, reply->len);
    bool retryable = false;
    ErrorCode code = code_for_reply(message, retryable);
    std::string why;
    if (!retryable && std::string_view(what) == "AUTH") {
      code = ErrorCode::permission_denied;
      if (message.find("without any password configured") != std::string::npos ||
          message.find("no password is set") != std::string::npos) {
        why =
            "the server has no password set for the default user, so the URL's password is "
            "wrong; ";
      }
    } else if (!retryable && code == ErrorCode::internal) {
      code = ErrorCode::invalid_argument;
      if (message.find("out of range") != std::string::npos) {
        why = "database " + std::to_string(config_.db) +
              " does not exist on the server (see its 'databases' setting); ";
      }
    }
    // Never echo AUTH's arguments; Redis' own message does not contain them.
    throw Error(code,
                std::string(what) + " on " + config_.redacted_url + " refused: " + why +
                    "Redis replied: " + message,
                kDriver, retryable);
  }

  const Config config_;
  std::string value_prefix_;  // "<len>:<prefix>:v:", followed by the encoded key
  std::string index_key_;     // sorted set of every encoded key, all scores 0
  std::string expiry_key_;    // sorted set of expiring encoded keys by expiry time (ms)
  std::mutex script_mutex_;
  std::atomic<bool> scripts_ready_{false};
  std::string write_sha_;  // set once, before scripts_ready_
  std::string list_sha_;

  std::mutex mutex_;
  std::condition_variable available_;
  std::vector<ContextPtr> idle_;  // most recently used last
  std::size_t open_ = 0;          // idle plus lent out
};

Config parse_config(Url& url) {
  Config config;
  config.redacted_url = url.redacted();
  auto invalid = [&](const std::string& why) {
    throw Error(ErrorCode::invalid_argument, why + " in " + url.redacted(), kDriver, false);
  };
  if (!url.has_authority()) invalid("a Redis URL needs \"//\" (redis://host:port/db)");
  config.user = url.user();
  config.password = url.password();
  if (!config.user.empty() && !config.password) {
    invalid("a user name needs a password (redis://user:password@host)");
  }
  std::optional<std::int64_t> db_param;
  if (url.scheme() == "redis+unix") {
    config.unix_socket = true;
    if (!url.host().empty() || url.port()) {
      invalid("redis+unix URLs take a socket path, not a host (redis+unix:///path/redis.sock)");
    }
    if (url.path().empty() || url.path() == "/") invalid("no socket path");
    config.socket_path = url.path();
    db_param = url.take_int("db", 0, 1000000);
  } else {
    if (!url.host().empty()) config.host = url.host();
    if (url.port()) config.port = *url.port();
    std::string_view path = url.path();
    if (!path.empty() && path.front() == '/') path.remove_prefix(1);
    if (!path.empty()) {
      if (path.size() > 7 || path.find_first_not_of("0123456789") != std::string_view::npos) {
        invalid("the path must be a database number (redis://host:port/0)");
      }
      config.db = std::stoll(std::string(path));
    }
  }
  if (db_param) config.db = *db_param;
  if (std::optional<std::string> prefix = url.take("prefix")) {
    if (prefix->size() > 1024) invalid("prefix is longer than 1024 bytes");
    config.prefix = std::move(*prefix);
  }
  if (auto n = url.take_int("pool_size", 1, 1024)) config.pool_size = static_cast<std::size_t>(*n);
  if (auto t = url.take_duration("connect_timeout", 1ms, 1h)) config.connect_timeout = *t;
  if (auto t = url.take_duration("command_timeout", 1ms, 1h)) config.command_timeout = *t;
  return config;
}

}  // namespace

std::unique_ptr<Driver> open(Url& url) {
  Config config;
  try {
    config = parse_config(url);
  } catch (const Error& e) {
    if (!e.driver().empty()) throw;
    throw Error(e.code(), e.message(), kDriver, e.retryable());  // name the driver
  }
  url.reject_unknown_params(kDriver);
  return std::make_unique<RedisStore>(std::move(config));
}

}  // namespace kvstore::redis
