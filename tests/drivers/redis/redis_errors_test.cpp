// The Redis driver's error table and URL parsing, without a server: what
// each Redis error reply, lost connection and refused connect becomes, and
// which Options a URL gives.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#include <cerrno>
#include <chrono>
#include <string>

#include <hiredis/hiredis.h>
#include <kvstore/error.h>
#include <kvstore/redis.h>

#include "redis_errors.h"

using namespace std::chrono_literals;
using kvstore::ErrorCode;
using kvstore::Failure;
using kvstore::Idempotence;
using namespace kvstore::redis::detail;

namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

kvstore::Error error_of_url(const std::string& url) {
  try {
    (void)kvstore::redis::Options::from_url(url);
  } catch (const kvstore::Error& e) {
    return e;
  }
  FAIL("no kvstore::Error for " << url);
  throw std::logic_error("unreachable");
}

}  // namespace

TEST_CASE("redis errors: the native code is the reply's upper-case first word", "[redis]") {
  CHECK(native_code_of("WRONGPASS invalid username-password pair") == "WRONGPASS");
  CHECK(native_code_of("ERR DB index is out of range") == "ERR");
  CHECK(native_code_of("NOSCRIPT No matching script.") == "NOSCRIPT");
  CHECK(native_code_of("LOADING") == "LOADING");
  CHECK(native_code_of("not a prefix") == "");
  CHECK(native_code_of("") == "");
  CHECK(starts_with_word("NOSCRIPT No matching script.", "NOSCRIPT"));
  CHECK_FALSE(starts_with_word("NOSCRIPTS x", "NOSCRIPT"));
}

TEST_CASE("redis errors: the table of error replies", "[redis]") {
  struct Row {
    const char* reply;
    ErrorCode code;
    bool transient;
  };
  const Row rows[] = {
      {"NOAUTH Authentication required.", ErrorCode::permission_denied, false},
      {"WRONGPASS invalid username-password pair or user is disabled.",
       ErrorCode::permission_denied, false},
      {"NOPERM this user has no permissions to run the 'eval' command",
       ErrorCode::permission_denied, false},
      {"READONLY You can't write against a read only replica.", ErrorCode::permission_denied,
       false},
      {"LOADING Redis is loading the dataset in memory", ErrorCode::unavailable, true},
      {"BUSY Redis is busy running a script.", ErrorCode::unavailable, true},
      {"MASTERDOWN Link with MASTER is down", ErrorCode::unavailable, true},
      {"TRYAGAIN Multiple keys request during rehashing of slot", ErrorCode::unavailable, true},
      {"CLUSTERDOWN The cluster is down", ErrorCode::unavailable, true},
      {"ERR max number of clients reached", ErrorCode::unavailable, true},
      {"OOM command not allowed when used memory > 'maxmemory'.", ErrorCode::limit_exceeded, false},
      {"WRONGTYPE Operation against a key holding the wrong kind of value", ErrorCode::corrupt,
       false},
      {"ERR unknown command 'FOO'", ErrorCode::internal, false},
  };
  for (const Row& row : rows) {
    INFO(row.reply);
    Failure failure = classify_reply(row.reply);
    CHECK(failure.code == row.code);
    CHECK(failure.transient == row.transient);
    CHECK_FALSE(failure.connection_broken);
    CHECK(failure.message == std::string("Redis replied: ") + row.reply);
    // A transient refusal happened before the command ran: even a cas may
    // be repeated.
    if (row.transient) CHECK_FALSE(failure.maybe_sent);
    kvstore::Error error = kvstore::to_error(failure, Idempotence::not_idempotent);
    CHECK(error.native_code() == native_code_of(row.reply));
    CHECK_FALSE(error.native_code().empty());
    CHECK_FALSE(error.outcome_unknown());  // a reply came: nothing is unknown
    CHECK(error.retryable() == (row.code == ErrorCode::unavailable));
  }
  // The classifier the retry runner calls finds the reply in a ReplyError.
  Failure failure = classify(ReplyError("WRONGTYPE Operation against a key"));
  CHECK(failure.code == ErrorCode::corrupt);
  CHECK(failure.native_code == "WRONGTYPE");
}

TEST_CASE("redis errors: refused handshakes are configuration errors", "[redis]") {
  const std::string where = "redis://:***@127.0.0.1:6379/16";
  Failure unneeded = classify_handshake(
      "AUTH",
      "ERR AUTH <password> called without any password configured for the default user. "
      "Are you sure your configuration is correct?",
      0, where);
  CHECK(unneeded.code == ErrorCode::permission_denied);
  CHECK(unneeded.native_code == "ERR");
  CHECK(contains(unneeded.message, "AUTH on " + where + " refused: the server has no password"));
  CHECK_FALSE(kvstore::to_error(unneeded, Idempotence::idempotent).retryable());

  Failure wrong = classify_handshake("AUTH", "WRONGPASS invalid username-password pair", 0, where);
  CHECK(wrong.code == ErrorCode::permission_denied);
  CHECK(wrong.native_code == "WRONGPASS");

  Failure db = classify_handshake("SELECT", "ERR DB index is out of range", 16, where);
  CHECK(db.code == ErrorCode::invalid_argument);
  CHECK(db.native_code == "ERR");
  CHECK(contains(db.message, "database 16 does not exist on the server"));
  CHECK(contains(db.message, "Redis replied: ERR DB index is out of range"));
  CHECK_FALSE(kvstore::to_error(db, Idempotence::idempotent).retryable());

  Failure noauth = classify_handshake("SELECT", "NOAUTH Authentication required.", 1, where);
  CHECK(noauth.code == ErrorCode::permission_denied);
  CHECK(noauth.native_code == "NOAUTH");

  Failure loading = classify_handshake("AUTH", "LOADING Redis is loading", 0, where);
  CHECK(loading.code == ErrorCode::unavailable);
  CHECK(kvstore::to_error(loading, Idempotence::idempotent).retryable());
}

TEST_CASE("redis errors: a lost reply makes a cas's outcome unknown", "[redis]") {
  const std::string where = "redis://127.0.0.1:6379/0";
  TransportError timeout = describe_transport(where, 300ms, "the write script", false, true, EAGAIN,
                                              REDIS_ERR_IO, "Resource temporarily unavailable");
  CHECK(timeout.kind() == TransportError::Kind::timeout);
  CHECK(std::string(timeout.what()) ==
        "timed out waiting for the reply to the write script from " + where + " after 300 ms");
  Failure failure = classify(timeout);
  CHECK(failure.code == ErrorCode::timeout);
  CHECK(failure.connection_broken);
  CHECK(failure.native_code.empty());
  CHECK(kvstore::to_error(failure, Idempotence::not_idempotent).outcome_unknown());
  CHECK_FALSE(kvstore::to_error(failure, Idempotence::idempotent).outcome_unknown());

  TransportError closed =
      describe_transport(where, 300ms, "GET", false, true, 0, REDIS_ERR_EOF, "Server closed");
  CHECK(closed.kind() == TransportError::Kind::broken);
  CHECK(std::string(closed.what()) ==
        "lost the connection to " + where +
            " while waiting for the reply to GET: the server closed the connection");
  Failure lost = classify(closed);
  CHECK(lost.code == ErrorCode::unavailable);
  CHECK(lost.connection_broken);
  kvstore::Error lost_cas = kvstore::to_error(lost, Idempotence::not_idempotent);
  CHECK(lost_cas.outcome_unknown());
  CHECK(lost_cas.retryable());

  // Nothing was sent (a send that failed at once, a dead idle connection):
  // the outcome is known, the cas may be repeated.
  TransportError unsent = describe_transport(where, 300ms, "the write script", true, false, EPIPE,
                                             REDIS_ERR_IO, "Broken pipe");
  Failure never = classify(unsent);
  CHECK_FALSE(never.maybe_sent);
  CHECK_FALSE(kvstore::to_error(never, Idempotence::not_idempotent).outcome_unknown());
  CHECK(contains(never.message, "the server closed the connection"));

  // Anything else the body throws is internal, on a connection not reused.
  Failure other = classify(std::runtime_error("boom"));
  CHECK(other.code == ErrorCode::internal);
  CHECK(other.connection_broken);
}

TEST_CASE("redis errors: failed connects say what happened", "[redis]") {
  const std::string where = "redis://:***@10.0.0.7:6379/0";
  Failure refused = classify_connect(REDIS_ERR_IO, "Connection refused", 3ms, 5000ms, where);
  CHECK(refused.code == ErrorCode::unavailable);
  CHECK(refused.message ==
        "cannot connect to " + where + ": connection refused (is Redis running there?)");
  Failure slow = classify_connect(REDIS_ERR_IO, "Connection timed out", 1001ms, 1000ms, where);
  CHECK(slow.code == ErrorCode::timeout);
  CHECK(slow.message ==
        "timed out connecting to " + where + " after 1001 ms (connect_timeout=1000 ms)");
  Failure denied = classify_connect(REDIS_ERR_IO, "Permission denied", 1ms, 1000ms, where);
  CHECK(denied.code == ErrorCode::permission_denied);
  CHECK_FALSE(kvstore::to_error(denied, Idempotence::idempotent).retryable());
  Failure dns = classify_connect(REDIS_ERR_OTHER, "Name or service not known", 1ms, 1000ms, where);
  CHECK(dns.code == ErrorCode::unavailable);
  CHECK(contains(dns.message, "Name or service not known"));
  CHECK(errno_of("connect: Connection refused") == ECONNREFUSED);
  CHECK(errno_of("something else") == 0);
}

TEST_CASE("redis options: a URL gives typed options with the shared defaults", "[redis][url]") {
  using kvstore::redis::Options;
  Options defaults = Options::from_url("redis://localhost");
  CHECK(defaults.host == "localhost");
  CHECK(defaults.port == 6379);
  CHECK(defaults.db == 0);
  CHECK(defaults.prefix == "kvstore");
  CHECK_FALSE(defaults.password.has_value());
  CHECK(defaults.pool_size == 8);
  CHECK(defaults.pool_timeout == 5s);
  CHECK(defaults.connect_timeout == 5s);
  CHECK(defaults.command_timeout == 10s);

  Options full = Options::from_url(
      "redis://app:p%40ss%3Aw%2Frd@[::1]:7000/3?prefix=cache&pool_size=2&pool_timeout=250ms"
      "&connect_timeout=1s&command_timeout=2s&max_value_size=1MiB&list_page_size=10");
  CHECK(full.host == "::1");
  CHECK(full.port == 7000);
  CHECK(full.db == 3);
  CHECK(full.user == "app");
  CHECK(full.password == "p@ss:w/rd");
  CHECK(full.prefix == "cache");
  CHECK(full.pool_size == 2);
  CHECK(full.pool_timeout == 250ms);
  CHECK(full.connect_timeout == 1s);
  CHECK(full.command_timeout == 2s);
  CHECK(full.store.max_value_bytes == std::size_t{1} << 20);
  CHECK(full.store.list_page_size == std::size_t{10});

  Options unix_socket = Options::from_url("redis+unix:///run/redis.sock?db=2");
  CHECK(unix_socket.socket_path == "/run/redis.sock");
  CHECK(unix_socket.db == 2);

  for (const char* bad :
       {"redis://h?pool_timeout=0", "redis://h?pool_timeout=2h", "redis://h?pool_size=1025",
        "redis://h?sweep_interval=1s", "redis://h?nonsense=1", "redis://app@h", "redis://h/x",
        "redis://h?db=1", "redis+unix://host/x.sock"}) {
    kvstore::Error e = error_of_url(bad);
    INFO(bad << ": " << e.what());
    CHECK(e.code() == ErrorCode::invalid_argument);
    CHECK(e.driver() == "redis");
    CHECK_FALSE(e.retryable());
  }
  kvstore::Error secret = error_of_url("redis://u:sEcReT@h?bogus=1");
  CHECK_FALSE(contains(secret.what(), "sEcReT"));
}

TEST_CASE("redis options: create() checks ranges and does no I/O", "[redis]") {
  kvstore::redis::Options options;
  options.port = 1;  // nothing listens there: create() must not try
  std::unique_ptr<kvstore::KvStore> store = kvstore::redis::create(options);
  CHECK(static_cast<bool>(store));
  options.pool_size = 0;
  try {
    (void)kvstore::redis::create(options);
    FAIL("pool_size=0 was accepted");
  } catch (const kvstore::Error& e) {
    CHECK(e.code() == ErrorCode::invalid_argument);
    CHECK(e.driver() == "redis");
  }
  options.pool_size = 8;
  options.user = "app";  // a user without a password
  CHECK_THROWS_AS(kvstore::redis::create(options), kvstore::Error);
  options.password = "x";
  options.command_timeout = 0ms;
  CHECK_THROWS_AS(kvstore::redis::create(options), kvstore::Error);
}
