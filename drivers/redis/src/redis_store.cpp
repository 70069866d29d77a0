// The Redis driver: commands, scripts and the liveness check on the driver
// kit's pool and retry rule. Layout, scripts and costs: docs/drivers/redis.md.
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
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <kvstore/driver.h>

#include "redis_errors.h"
#include "redis_options.h"
#include "redis_scripts.h"

namespace kvstore::redis {

namespace {

using std::chrono::milliseconds;
using namespace detail;

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

// RESP framing: "<kind><n>\r\n" (an array's or a bulk string's header).
void append_resp_header(std::string& out, char kind, std::size_t n) {
  char digits[24];
  digits[0] = kind;
  char* end = std::to_chars(digits + 1, digits + sizeof digits - 2, n).ptr;
  *end++ = '\r';
  *end++ = '\n';
  out.append(digits, static_cast<std::size_t>(end - digits));
}

// One bulk-string argument sent as two pieces (a key prefix and the key).
void append_resp_bulk(std::string& out, std::string_view head, std::string_view tail = {}) {
  append_resp_header(out, '$', head.size() + tail.size());
  out.append(head).append(tail).append("\r\n", 2);
}

// One command's arguments, pointing into strings the caller keeps alive.
// Fixed capacity, so building a command allocates nothing; an argument may
// be two pieces sent as one (a key prefix and the encoded key), so the
// caller need not build the whole key in a string of its own.
class Command {
 public:
  static constexpr std::size_t kMaxArgs = 16;  // the write script takes 15

  Command& arg(std::string_view a) { return arg(a, {}); }
  Command& arg(std::string_view head, std::string_view tail) {
    if (argc_ == kMaxArgs) throw Error(ErrorCode::internal, "too many Redis command arguments");
    head_[argc_] = head;
    tail_[argc_] = tail;
    ++argc_;
    return *this;
  }
  std::size_t argc() const noexcept { return argc_; }
  // A one-piece argument (the script SHA of an EVALSHA).
  std::string_view at(std::size_t i) const noexcept { return head_[i]; }
  void replace(std::size_t i, std::string_view a) noexcept {
    head_[i] = a;
    tail_[i] = {};
  }

  // The request in RESP, Redis's wire format ("*<n>", then "$<len>" and the
  // bytes of each argument, every part ended by CRLF), written into `out`
  // (cleared first; its capacity is reused from call to call).
  void format(std::string& out) const {
    out.clear();
    append_to(out);
  }

  // The same appended to `out`, after the requests already in it (a pipeline).
  void append_to(std::string& out) const {
    std::size_t size = out.size() + 16;
    for (std::size_t i = 0; i < argc_; ++i) size += head_[i].size() + tail_[i].size() + 24;
    out.reserve(size);
    append_resp_header(out, '*', argc_);
    for (std::size_t i = 0; i < argc_; ++i) append_resp_bulk(out, head_[i], tail_[i]);
  }

 private:
  std::array<std::string_view, kMaxArgs> head_;
  std::array<std::string_view, kMaxArgs> tail_;
  std::size_t argc_ = 0;
};

// Where a command was sent and how long each socket read or write may take.
struct Peer {
  const std::string& where;
  milliseconds timeout;
};

// Sends the request(s) in `buffer` (formatted RESP). Throws TransportError if
// they could not all be written; the context is then unusable.
//
// The request is written here, with send(MSG_NOSIGNAL), rather than by
// hiredis: its write(2) raises SIGPIPE on a connection the server closed and
// would kill a process that does not ignore SIGPIPE, and its formatting
// copies every argument twice through a fresh allocation. hiredis, finding
// its own output buffer empty, only reads the replies.
void send_request(redisContext* c, std::string& buffer, std::string_view label, const Peer& peer) {
  int failure = 0;
  const std::size_t length = buffer.size();
  std::size_t sent = 0;
  while (sent < length) {
    ssize_t n = ::send(c->fd, buffer.data() + sent, length - sent, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      failure = errno;
      break;
    }
    sent += static_cast<std::size_t>(n);
  }
  // Do not keep a large value's buffer for the connection's lifetime.
  if (buffer.capacity() > (64u << 10)) std::string().swap(buffer);
  if (failure != 0) {
    c->err = REDIS_ERR_IO;
    std::snprintf(c->errstr, sizeof c->errstr, "%s", std::strerror(failure));
    throw describe_transport(peer.where, peer.timeout, label, /*sending=*/true, sent > 0,
                             failure == EWOULDBLOCK ? EAGAIN : failure, REDIS_ERR_IO, c->errstr);
  }
}

// Reads the next reply (which may be an error reply). Throws TransportError
// if none came; the context is then unusable.
ReplyPtr read_reply(redisContext* c, std::string_view label, const Peer& peer) {
  void* reply = nullptr;
  if (redisGetReply(c, &reply) != REDIS_OK || reply == nullptr) {
    const int saved = errno;
    int error_number = 0;
    if (c->err == REDIS_ERR_IO) {
      error_number = errno_of(c->errstr);
      if (error_number == 0) error_number = saved;
      if (error_number == EWOULDBLOCK) error_number = EAGAIN;
    }
    throw describe_transport(peer.where, peer.timeout, label, /*sending=*/false, true, error_number,
                             c->err, c->errstr);
  }
  return ReplyPtr(static_cast<redisReply*>(reply));
}

// Sends `cmd` and reads its reply. `buffer` is scratch space for the
// request, kept by the connection.
ReplyPtr exchange(redisContext* c, const Command& cmd, std::string& buffer, std::string_view label,
                  const Peer& peer) {
  try {
    cmd.format(buffer);
  } catch (const std::bad_alloc&) {
    throw TransportError(TransportError::Kind::broken,
                         "cannot send " + std::string(label) + " to " + peer.where +
                             ": out of memory formatting the request",
                         false);
  }
  send_request(c, buffer, label, peer);
  return read_reply(c, label, peer);
}

std::string_view text_of(const redisReply* reply) { return {reply->str, reply->len}; }

// A live connection the server has not closed: nothing to read yet. A reused
// connection whose server restarted reads EOF here, so it is replaced before
// a command is risked on it.
bool looks_alive(const redisContext* c) {
  char byte;
  ssize_t n = recv(c->fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

// A pooled connection. Empty after a command timed out on it: it is closed
// at once, and the next call that leases it connects again.
class Connection {
 public:
  explicit Connection(ContextPtr context) : context_(std::move(context)) {}
  redisContext* get() const noexcept { return context_.get(); }
  bool is_open() const noexcept { return context_ != nullptr; }
  void close() noexcept { context_.reset(); }
  void reopen(ContextPtr context) noexcept { context_ = std::move(context); }
  // Where requests are formatted: reused, so a call allocates nothing for it.
  std::string& request_buffer() noexcept { return request_; }

 private:
  ContextPtr context_;
  std::string request_;
};

// Bounds of one bulk request (docs/drivers/redis.md, "Bulk calls"): keys
// per MGET or commands per pipeline, and about how many bytes of request.
constexpr std::size_t kBatchItems = 1000;
constexpr std::size_t kBatchBytes = 1u << 20;

PoolOptions pool_options(const Options& options) {
  PoolOptions pool;
  pool.size = options.pool_size;
  pool.wait_timeout = options.pool_timeout;
  return pool;
}

class RedisStore final : public Driver {
 public:
  RedisStore(Options options, std::string where)
      : Driver(
            kDriver,
            Capabilities{.persistent = true, .shared = true, .server_clock = true, .pooled = true}),
        options_(std::move(options)),
        where_(std::move(where)),
        pool_(pool_options(options_), [this] { return std::make_unique<Connection>(connect()); }) {
    const std::string tag = std::to_string(options_.prefix.size()) + ":" + options_.prefix;
    value_prefix_ = tag + ":v:";
    index_key_ = tag + ":i";
    expiry_key_ = tag + ":x";
    meta_prefix_ = tag + ":m:";
    layout_key_ = tag + ":layout";
    // No I/O here: the first call connects and loads the scripts.
  }

 protected:
  std::optional<std::string> do_get(const std::string& key) override {
    ensure_ready();
    return run(Idempotence::idempotent, [&](Connection& connection) -> std::optional<std::string> {
      Command cmd;
      cmd.arg("GET").arg(value_prefix_, key);
      ReplyPtr reply = call(connection, cmd, "GET", Idempotence::idempotent);
      if (reply->type == REDIS_REPLY_NIL) return std::nullopt;
      if (reply->type != REDIS_REPLY_STRING) unexpected("GET");
      return std::string(text_of(reply.get()));
    });
  }

  void do_set(const std::string& key, std::string_view json,
              const StoredOptions& options) override {
    write(key, 'n', {}, json, options, Idempotence::idempotent_write);
  }

  void do_remove(const std::string& key) override {
    write(key, 'n', {}, std::nullopt, {}, Idempotence::idempotent_write);
  }

  // MGET is to GET what get_many is to get: Redis hides an expired value
  // key from both alike.
  std::vector<std::optional<std::string>> do_get_many(
      const std::vector<std::string>& keys) override {
    ensure_ready();
    std::vector<std::optional<std::string>> values(keys.size());
    auto size_of = [&](std::size_t i) { return value_prefix_.size() + keys[i].size() + 32; };
    for_each_batch(keys.size(), size_of, [&](std::size_t first, std::size_t last) {
      run(Idempotence::idempotent, [&](Connection& connection) {
        guarded(connection, Idempotence::idempotent, [&] {
          std::string& buffer = connection.request_buffer();
          buffer.clear();
          append_resp_header(buffer, '*', last - first + 1);
          append_resp_bulk(buffer, "MGET");
          for (std::size_t i = first; i < last; ++i)
            append_resp_bulk(buffer, value_prefix_, keys[i]);
          send_request(connection.get(), buffer, "MGET", peer());
          ReplyPtr reply = read_reply(connection.get(), "MGET", peer());
          if (reply->type == REDIS_REPLY_ERROR) throw ReplyError(std::string(text_of(reply.get())));
          if (reply->type != REDIS_REPLY_ARRAY || reply->elements != last - first) {
            unexpected("MGET");
          }
          for (std::size_t i = first; i < last; ++i) {
            const redisReply* value = reply->element[i - first];
            if (value->type == REDIS_REPLY_STRING) {
              values[i].emplace(text_of(value));
            } else if (value->type == REDIS_REPLY_NIL) {
              values[i].reset();
            } else {
              unexpected("MGET");
            }
          }
        });
      });
    });
    return values;
  }

  void do_set_many(const std::vector<StoredWrite>& writes) override {
    // One expiry argument at a time: each command is copied into the
    // pipeline's buffer before the next is built.
    std::string expiry_text;
    write_many(
        writes.size(),
        [&](std::size_t i) {
          const StoredWrite& w = writes[i];
          return write_request_size(w.key, w.json.size() + w.options.metadata.value_or("").size());
        },
        [&](std::size_t i, Command& cmd) {
          const StoredWrite& w = writes[i];
          expiry_text = expiry_arg(w.options);
          write_command(cmd, w.key, 'n', {}, w.json, expiry_text, w.options.metadata);
        });
  }

  void do_remove_many(const std::vector<std::string>& keys) override {
    write_many(
        keys.size(), [&](std::size_t i) { return write_request_size(keys[i], 0); },
        [&](std::size_t i, Command& cmd) {
          write_command(cmd, keys[i], 'n', {}, std::nullopt, {}, std::nullopt);
        });
  }

  bool do_swap(const std::string& key, std::optional<std::string_view> expected,
               std::optional<std::string_view> desired, const StoredOptions& options) override {
    // A swap whose reply was lost may have happened: the kit never repeats
    // it unless the request certainly never left, and says outcome_unknown.
    return write(key, expected ? 'e' : 'a', expected.value_or(std::string_view{}), desired, options,
                 Idempotence::not_idempotent);
  }

  // Connects, authenticates, selects the database and loads the scripts.
  void do_ping() override {
    ensure_ready();
    (void)do_get(encode_key({"kvstore", "ping"}));
  }

  // One script call reads the value, the metadata key and the expiry score
  // atomically: one round trip, like get.
  std::optional<StoredEntry> do_get_entry(const std::string& key) override {
    ensure_ready();
    return run(Idempotence::idempotent, [&](Connection& connection) -> std::optional<StoredEntry> {
      Command cmd;
      cmd.arg("EVALSHA").arg(entry_sha_).arg("3").arg(value_prefix_, key).arg(meta_prefix_, key);
      cmd.arg(expiry_key_).arg(key);
      ReplyPtr reply =
          call(connection, cmd, "the entry script", Idempotence::idempotent, kEntryScript);
      if (reply->type == REDIS_REPLY_NIL) return std::nullopt;
      if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 3 ||
          reply->element[0]->type != REDIS_REPLY_STRING) {
        unexpected("entry script");
      }
      StoredEntry entry;
      entry.json.assign(text_of(reply->element[0]));
      read_extras(reply->element[1], reply->element[2], entry, "entry script");
      return entry;
    });
  }

  std::vector<StoredEntry> do_list(const KeyRange& range, std::size_t limit) override {
    return list_page(range, limit, /*values=*/true);
  }

  // The list script without values: it checks each value key with EXISTS
  // and never reads it, so a page costs per key, not per byte of value.
  std::vector<StoredEntry> do_list_keys(const KeyRange& range, std::size_t limit) override {
    return list_page(range, limit, /*values=*/false);
  }

 private:
  std::vector<StoredEntry> list_page(const KeyRange& range, std::size_t limit, bool values) {
    ensure_ready();
    const std::size_t stride = values ? 4 : 3;
    std::vector<StoredEntry> page;
    std::string begin = range.begin;
    const std::string end = range.end.value_or(std::string{});
    const std::string budget = std::to_string(kListDeadBudget);
    while (page.size() < limit) {
      const std::string want = std::to_string(limit - page.size());
      // Each script call is one idempotent round trip of its own: a listing
      // holds no connection between them.
      const bool more = run(Idempotence::idempotent, [&](Connection& connection) {
        Command cmd;
        cmd.arg("EVALSHA").arg(list_sha_).arg("2").arg(index_key_).arg(expiry_key_);
        cmd.arg(value_prefix_).arg(begin).arg(end).arg(want).arg(budget).arg(values ? "v" : "k");
        ReplyPtr reply =
            call(connection, cmd, "the list script", Idempotence::idempotent, kListScript);
        if (reply->type != REDIS_REPLY_ARRAY || reply->elements % stride != 1) {
          unexpected("list script");
        }
        for (std::size_t i = 1; i + stride - 1 < reply->elements; i += stride) {
          const redisReply* k = reply->element[i];
          if (k->type != REDIS_REPLY_STRING) unexpected("list script");
          StoredEntry& entry = page.emplace_back();
          entry.key.assign(text_of(k));
          if (values) {
            const redisReply* v = reply->element[i + 1];
            if (v->type != REDIS_REPLY_STRING) unexpected("list script");
            entry.json.assign(text_of(v));
          }
          read_extras(reply->element[i + stride - 2], reply->element[i + stride - 1], entry,
                      "list script");
        }
        const redisReply* resume = reply->element[0];
        if (resume->type != REDIS_REPLY_STRING || resume->len == 0) return false;
        // Too many dead members in a row: go on strictly after the last one.
        begin.assign(resume->str, resume->len);
        begin += '\x01';
        return true;
      });
      if (!more) break;
    }
    return page;
  }

  // The metadata (nil: none) and expiry score (nil: never) of a script's
  // reply, into `entry`.
  void read_extras(const redisReply* metadata, const redisReply* score, StoredEntry& entry,
                   const char* what) const {
    if (metadata->type == REDIS_REPLY_STRING) {
      entry.metadata.emplace(text_of(metadata));
    } else if (metadata->type != REDIS_REPLY_NIL) {
      unexpected(what);
    }
    if (score->type == REDIS_REPLY_STRING) {
      // Scores are whole milliseconds well inside a double's exact range.
      const std::string text(text_of(score));
      char* end = nullptr;
      const double ms = std::strtod(text.c_str(), &end);
      if (end == text.c_str() || *end != '\0') {
        fail(ErrorCode::corrupt, "the expiry set holds a score that is not a number: " + text);
      }
      entry.expires_at = Clock::time_point(milliseconds(static_cast<std::int64_t>(ms)));
    } else if (score->type != REDIS_REPLY_NIL) {
      unexpected(what);
    }
  }

  // The write script's expiry argument (redis_scripts.h).
  static std::string expiry_arg(const StoredOptions& options) {
    if (options.ttl) return "r" + std::to_string(options.ttl->count());
    if (options.expires_at) {
      const auto ms =
          std::chrono::duration_cast<milliseconds>(options.expires_at->time_since_epoch());
      return "a" + std::to_string(ms.count());
    }
    return {};
  }

  // Runs body(connection) under the kit's retry rule. A cas first makes sure
  // a reused connection has not been closed by the server (one non-blocking
  // recv), since it could not be repeated after sending on a dead one; the
  // idempotent calls are repeated on a fresh connection instead.
  template <class Body>
  auto run(Idempotence idempotence, Body&& body) -> decltype(body(std::declval<Connection&>())) {
    return run_with_retry(
        pool_, classify_, idempotence, options_.pool_timeout, [&](Connection& connection) {
          if (!connection.is_open()) {
            connection.reopen(connect());
          } else if (idempotence == Idempotence::not_idempotent && !looks_alive(connection.get())) {
            pool_.clear_idle();
            throw TransportError(TransportError::Kind::broken,
                                 "the server closed an idle connection to " + where_,
                                 /*maybe_sent=*/false);
          }
          return body(connection);
        });
  }

  bool write(const std::string& key, char expect, std::string_view expected,
             std::optional<std::string_view> desired, const StoredOptions& options,
             Idempotence idempotence) {
    const std::string expiry_text = expiry_arg(options);
    ensure_ready();
    return run(idempotence, [&](Connection& connection) {
      Command cmd;
      write_command(cmd, key, expect, expected, desired, expiry_text, options.metadata);
      ReplyPtr reply = call(connection, cmd, "the write script", idempotence, kWriteScript);
      if (reply->type != REDIS_REPLY_INTEGER) unexpected("write script");
      return reply->integer == 1;
    });
  }

  // The write script's EVALSHA for one key (redis_scripts.h); `cmd` points
  // into the arguments, which must outlive it.
  void write_command(Command& cmd, const std::string& key, char expect, std::string_view expected,
                     std::optional<std::string_view> desired, std::string_view expiry_text,
                     const std::optional<std::string>& metadata) const {
    cmd.arg("EVALSHA").arg(write_sha_).arg("4").arg(value_prefix_, key);
    cmd.arg(index_key_).arg(expiry_key_).arg(meta_prefix_, key);
    cmd.arg(key).arg(expect == 'n' ? "n" : expect == 'a' ? "a" : "e").arg(expected);
    cmd.arg(desired ? "s" : "d").arg(desired.value_or(std::string_view{})).arg(expiry_text);
    cmd.arg(value_prefix_);
    if (metadata && desired) {
      cmd.arg("m", *metadata);
    } else {
      cmd.arg({});
    }
  }

  // About how many request bytes write_command() takes for a key and value
  // (plus metadata).
  std::size_t write_request_size(const std::string& key, std::size_t json_size) const {
    return 3 * (value_prefix_.size() + key.size()) + index_key_.size() + expiry_key_.size() +
           write_sha_.size() + json_size + 15 * 16;
  }

  // The one place bulk calls are cut into requests: runs body(first, last)
  // for consecutive items, at most kBatchItems and about kBatchBytes of
  // request each (an item larger than that goes alone), so memory and each
  // round trip's time stay bounded however large the call. (Redis Cluster
  // would split here by hash slot as well.)
  template <class SizeOf, class Body>
  static void for_each_batch(std::size_t n, SizeOf&& size_of, Body&& body) {
    for (std::size_t first = 0; first < n;) {
      std::size_t last = first;
      std::size_t bytes = 0;
      while (last < n && last - first < kBatchItems) {
        const std::size_t size = size_of(last);
        if (last > first && bytes + size > kBatchBytes) break;
        bytes += size;
        ++last;
      }
      body(first, last);
      first = last;
    }
  }

  // Sets or removes n keys: the single-key write script, pipelined, one
  // round trip per batch. Each batch is retried as do_set() would be (the
  // script is a plain write, so repeating it is harmless). command_for(i, cmd)
  // builds item i's EVALSHA.
  template <class SizeOf, class CommandFor>
  void write_many(std::size_t n, SizeOf&& size_of, CommandFor&& command_for) {
    constexpr Idempotence kIdempotence = Idempotence::idempotent_write;
    ensure_ready();
    for_each_batch(n, size_of, [&](std::size_t first, std::size_t last) {
      run(kIdempotence, [&](Connection& connection) {
        guarded(connection, kIdempotence, [&] {
          std::vector<std::size_t> lost;  // NOSCRIPT: the server's script cache was flushed
          std::optional<std::string> failure = pipeline(
              connection, first, last, [&](std::size_t i, Command& cmd) { command_for(i, cmd); },
              &lost);
          if (!failure && !lost.empty()) {
            // Only the first goes as EVAL: Redis runs a pipeline in order, so
            // that EVAL has cached the script again before the EVALSHAs after it.
            failure = pipeline(
                connection, 0, lost.size(),
                [&](std::size_t k, Command& cmd) {
                  command_for(lost[k], cmd);
                  if (k == 0) {
                    cmd.replace(0, "EVAL");
                    cmd.replace(1, kWriteScript);
                  }
                },
                nullptr);
          }
          // Every reply was read, so the connection is in step for reuse.
          if (failure) throw ReplyError(std::move(*failure));
        });
      });
    });
  }

  // Sends the write-script commands build(i, cmd) for i in [first, last) in
  // one write and reads every reply. Returns the first error reply other
  // than NOSCRIPT (all replies are read even so); the items answered
  // NOSCRIPT go to `noscript` if given, else count as errors.
  template <class Build>
  std::optional<std::string> pipeline(Connection& connection, std::size_t first, std::size_t last,
                                      Build&& build, std::vector<std::size_t>* noscript) {
    std::string& buffer = connection.request_buffer();
    buffer.clear();
    for (std::size_t i = first; i < last; ++i) {
      Command cmd;
      build(i, cmd);
      cmd.append_to(buffer);
    }
    send_request(connection.get(), buffer, "the write script", peer());
    std::optional<std::string> failure;
    bool malformed = false;
    for (std::size_t i = first; i < last; ++i) {
      ReplyPtr reply = read_reply(connection.get(), "the write script", peer());
      if (reply->type == REDIS_REPLY_ERROR) {
        const std::string_view text = text_of(reply.get());
        if (noscript != nullptr && starts_with_word(text, "NOSCRIPT")) {
          noscript->push_back(i);
        } else if (!failure) {
          failure.emplace(text);
        }
      } else if (reply->type != REDIS_REPLY_INTEGER) {
        malformed = true;
      }
    }
    if (malformed && !failure) unexpected("write script");
    return failure;
  }

  // Runs `cmd` (`label` in messages) on `connection` and returns its
  // (non-error) reply. For an EVALSHA, `script` is its body, sent with EVAL
  // if the server has lost its script cache (restart, SCRIPT FLUSH); EVAL
  // caches it again.
  ReplyPtr call(Connection& connection, Command& cmd, std::string_view label,
                Idempotence idempotence, std::string_view script = {}) {
    return guarded(connection, idempotence, [&] {
      std::string& buffer = connection.request_buffer();
      ReplyPtr reply = exchange(connection.get(), cmd, buffer, label, peer());
      if (reply->type == REDIS_REPLY_ERROR && !script.empty() &&
          starts_with_word(text_of(reply.get()), "NOSCRIPT")) {
        const std::string_view sha = cmd.at(1);
        cmd.replace(0, "EVAL");
        cmd.replace(1, script);
        reply = exchange(connection.get(), cmd, buffer, label, peer());
        cmd.replace(0, "EVALSHA");
        cmd.replace(1, sha);
      }
      if (reply->type == REDIS_REPLY_ERROR) throw ReplyError(std::string(text_of(reply.get())));
      return reply;
    });
  }

  // Runs io() (requests and replies on `connection`) and handles what a
  // lost reply means for the connection.
  template <class Io>
  auto guarded(Connection& connection, Idempotence idempotence, Io&& io) -> decltype(io()) {
    try {
      return io();
    } catch (const TransportError& e) {
      if (e.kind() == TransportError::Kind::timeout) {
        // Closed and raised here: the kit would take a reused connection that
        // timed out for a stale one and wait once more on a stalled server.
        connection.close();
        throw to_error(classify_transport(e), idempotence);
      }
      // The server went away: every idle connection probably broke with it.
      pool_.clear_idle();
      throw;
    }
  }

  [[noreturn]] void unexpected(const char* what) const {
    fail(ErrorCode::internal, std::string("unexpected reply type to ") + what);
  }

  // On first use (the store connects lazily): checks the layout version,
  // recording it in a fresh or version-1 store, and loads the scripts. A
  // store of a newer layout fails this and every later call. After the
  // first success this is one atomic load.
  void ensure_ready() {
    if (ready_.load(std::memory_order_acquire)) return;
    std::lock_guard lock(script_mutex_);
    if (ready_.load(std::memory_order_relaxed)) return;
    if (refusal_) fail(ErrorCode::unsupported, *refusal_);
    // The scripts first (a newer layout leaves them cached, harmlessly), so
    // the first request of a new store is still SCRIPT LOAD.
    run(Idempotence::idempotent, [&](Connection& connection) {
      write_sha_ = load_script(connection, kWriteScript);
      list_sha_ = load_script(connection, kListScript);
      entry_sha_ = load_script(connection, kEntryScript);
    });
    std::string version;
    run(Idempotence::idempotent, [&](Connection& connection) {
      // A plain GET first, so a store already at this version opens on a
      // read-only replica too; only one to upgrade runs the script.
      Command get;
      get.arg("GET").arg(layout_key_);
      ReplyPtr reply = call(connection, get, "GET of the layout version", Idempotence::idempotent);
      if (reply->type == REDIS_REPLY_NIL ||
          (reply->type == REDIS_REPLY_STRING && text_of(reply.get()) == "1")) {
        const std::string ours = std::to_string(kLayoutVersion);
        Command eval;
        eval.arg("EVAL").arg(kLayoutScript).arg("1").arg(layout_key_).arg(ours);
        reply = call(connection, eval, "the layout script", Idempotence::idempotent);
      }
      if (reply->type != REDIS_REPLY_STRING) unexpected("GET of the layout version");
      version.assign(text_of(reply.get()));
    });
    int recorded = 0;
    const auto [end, ec] =
        std::from_chars(version.data(), version.data() + version.size(), recorded);
    if (ec != std::errc{} || end != version.data() + version.size() || recorded < 1) {
      fail(ErrorCode::corrupt, "the layout version key " + layout_key_ + " holds '" + version +
                                   "', not a version number");
    }
    if (recorded > kLayoutVersion) {
      refusal_ = "the Redis store at " + where_ + " (key " + layout_key_ + "): layout version " +
                 std::to_string(recorded) + " is newer than this kvstore supports (" +
                 std::to_string(kLayoutVersion) + "); upgrade kvstore to open it";
      fail(ErrorCode::unsupported, *refusal_);
    }
    ready_.store(true, std::memory_order_release);
  }

  std::string load_script(Connection& connection, std::string_view body) {
    Command cmd;
    cmd.arg("SCRIPT").arg("LOAD").arg(body);
    ReplyPtr reply = call(connection, cmd, "SCRIPT LOAD", Idempotence::idempotent);
    if (reply->type != REDIS_REPLY_STRING) unexpected("SCRIPT LOAD");
    return std::string(text_of(reply.get()));
  }

  Peer peer() const { return {where_, options_.command_timeout}; }

  // A new connection, authenticated and on its database. Throws a classified
  // Error: the pool calls this outside the retry runner's reach. Both
  // timeouts are at least 1ms, so every connect and every socket read or
  // write is bounded.
  ContextPtr connect() {
    const timeval connect_tv = to_timeval(options_.connect_timeout);
    const auto start = std::chrono::steady_clock::now();
    redisContext* raw =
        options_.socket_path.empty()
            ? redisConnectWithTimeout(options_.host.c_str(), options_.port, connect_tv)
            : redisConnectUnixWithTimeout(options_.socket_path.c_str(), connect_tv);
    if (raw == nullptr) fail(ErrorCode::internal, "out of memory creating a Redis connection");
    ContextPtr context(raw);
    if (context->err != 0) {
      const auto elapsed =
          std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - start);
      throw to_error(classify_connect(context->err, context->errstr, elapsed,
                                      options_.connect_timeout, where_),
                     Idempotence::idempotent);
    }
    if (redisSetTimeout(context.get(), to_timeval(options_.command_timeout)) != REDIS_OK) {
      throw Error(
          ErrorCode::unavailable,
          "cannot set the socket timeouts of a connection to " + where_ + ": " + context->errstr,
          kDriver, true);
    }
    if (options_.socket_path.empty()) redisEnableKeepAlive(context.get());
    if (options_.password) {
      Command auth;
      auth.arg("AUTH");
      if (!options_.user.empty()) auth.arg(options_.user);
      auth.arg(*options_.password);
      handshake(context.get(), auth, "AUTH");
    }
    if (options_.db != 0) {
      const std::string db = std::to_string(options_.db);
      Command select;
      select.arg("SELECT").arg(db);
      handshake(context.get(), select, "SELECT");
    }
    return context;
  }

  // AUTH or SELECT on a new connection (never echoing AUTH's arguments).
  void handshake(redisContext* context, Command& cmd, std::string_view what) {
    ReplyPtr reply;
    std::string buffer;
    try {
      reply = exchange(context, cmd, buffer, what, peer());
    } catch (const TransportError& e) {
      throw to_error(classify_transport(e), Idempotence::idempotent);
    }
    if (reply->type != REDIS_REPLY_ERROR) return;
    throw to_error(classify_handshake(what, text_of(reply.get()), options_.db, where_),
                   Idempotence::idempotent);
  }

  const Options options_;
  const std::string where_;   // the redacted URL, for messages
  std::string value_prefix_;  // "<len>:<prefix>:v:", followed by the encoded key
  std::string index_key_;     // sorted set of every encoded key, all scores 0
  std::string expiry_key_;    // sorted set of expiring encoded keys by expiry time (ms)
  std::string meta_prefix_;   // "<len>:<prefix>:m:", followed by the encoded key
  std::string layout_key_;    // "<len>:<prefix>:layout": the layout version
  const ErrorClassifier classify_ = &detail::classify;
  ConnectionPool<Connection> pool_;
  std::mutex script_mutex_;
  std::atomic<bool> ready_{false};
  std::optional<std::string> refusal_;  // why a newer layout is refused (under script_mutex_)
  std::string write_sha_;               // set once, before ready_
  std::string list_sha_;
  std::string entry_sha_;
};

}  // namespace

std::unique_ptr<KvStore> create(const Options& options) {
  std::string where = describe(options);
  validate(options, where);
  auto driver = std::make_unique<RedisStore>(options, std::move(where));
  return std::make_unique<KvStore>(std::move(driver), options.store);
}

std::unique_ptr<Driver> open(Url& url) {
  Options options = options_from_url(url);
  return std::make_unique<RedisStore>(std::move(options), url.redacted());
}

}  // namespace kvstore::redis
