// The Redis driver's native error table: what a Redis error reply, a lost or
// silent connection and a refused connect mean as a kvstore::Failure. Pure
// functions of their arguments, so they are tested without a server
// (tests/drivers/redis/redis_errors_test.cpp).
#pragma once

#include <chrono>
#include <cstdint>
#include <exception>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include <kvstore/driver/retry.h>

namespace kvstore::redis::detail {

// A command that got no reply. Thrown by the driver's calls for classify().
class TransportError : public std::runtime_error {
 public:
  enum class Kind { timeout, broken };
  // `message` is a whole sentence naming the command and the redacted URL.
  // `maybe_sent`: some of the request may have reached the server.
  TransportError(Kind kind, const std::string& message, bool maybe_sent)
      : std::runtime_error(message), kind_(kind), maybe_sent_(maybe_sent) {}
  Kind kind() const noexcept { return kind_; }
  bool maybe_sent() const noexcept { return maybe_sent_; }

 private:
  Kind kind_;
  bool maybe_sent_;
};

// An error reply ("ERR ...", "WRONGTYPE ...") to a command.
class ReplyError : public std::runtime_error {
 public:
  explicit ReplyError(std::string reply)
      : std::runtime_error("Redis replied: " + reply), reply_(std::move(reply)) {}
  const std::string& reply() const noexcept { return reply_; }

 private:
  std::string reply_;
};

// The error prefix of a reply: its first word if that is upper-case letters
// ("WRONGPASS", "NOSCRIPT", "ERR"), else "".
std::string native_code_of(std::string_view reply);

// True if `reply` starts with the word `word` ("NOSCRIPT No matching ...").
bool starts_with_word(std::string_view reply, std::string_view word);

// The table: an error reply to a command.
Failure classify_reply(std::string_view reply);

// A refused AUTH or SELECT on a new connection: a configuration error (bad
// credentials, a database the server lacks), never retryable, unless Redis
// says it is loading or busy. `command` is "AUTH" or "SELECT"; `where` the
// redacted address. The message never contains AUTH's arguments.
Failure classify_handshake(std::string_view command, std::string_view reply, std::int64_t db,
                           const std::string& where);

// A command without a reply: a connection to discard, timeout or unavailable.
Failure classify_transport(const TransportError& error);

// The driver's ErrorClassifier for run_with_retry (inside a catch block).
Failure classify(const std::exception& e);

// The TransportError for `label` (the command, e.g. "GET" or "AUTH") sent to
// `where` that failed while `sending` or reading, from the system's error
// number and hiredis' error type and text. An expired socket timeout
// (EAGAIN) is a timeout that says how long it waited, not "Resource
// temporarily unavailable".
TransportError describe_transport(const std::string& where, std::chrono::milliseconds timeout,
                                  std::string_view label, bool sending, bool maybe_sent,
                                  int error_number, int hiredis_error, const char* errstr);

// A connect that failed after `elapsed`, from hiredis' error type and text.
Failure classify_connect(int hiredis_error, const char* errstr, std::chrono::milliseconds elapsed,
                         std::chrono::milliseconds connect_timeout, const std::string& where);

// hiredis puts strerror(errno) into errstr (sometimes after "prefix: "), and
// errno itself may have been overwritten by the time it returns, so the
// error number is recovered from the text; 0 if it is none a connection
// expects.
int errno_of(const char* errstr);

// What an error number means for a connection, in words a reader of a log
// can act on.
std::string describe_errno(int error_number);

}  // namespace kvstore::redis::detail
