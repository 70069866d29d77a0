// The PostgreSQL driver's native error table: SQLSTATEs and libpq's
// connection messages mapped onto kvstore's ErrorCode, and the classifier
// the kit's retry runner calls. Nothing here needs a server, so the table is
// unit-tested on its own (tests/drivers/postgres/postgres_errors_test.cpp).
#pragma once

#include <exception>
#include <stdexcept>
#include <string>
#include <string_view>

#include <kvstore/driver/retry.h>
#include <kvstore/error.h>

namespace kvstore::postgres::detail {

// A statement failed: the server's SQLSTATE (empty when libpq failed before
// any reply), and whether the connection is gone with it.
class SqlError : public std::runtime_error {
 public:
  SqlError(const std::string& message, std::string state, bool broken)
      : std::runtime_error(message), state_(std::move(state)), broken_(broken) {}
  const std::string& state() const noexcept { return state_; }
  bool broken() const noexcept { return broken_; }

 private:
  std::string state_;
  bool broken_;
};

// Connecting failed before any statement was sent. `state` is the server's
// SQLSTATE when it refused the startup (authentication, unknown database,
// bad option), empty for libpq's own failures; `timed_out`: connect_timeout
// or the call's deadline passed first.
class ConnectError : public std::runtime_error {
 public:
  ConnectError(const std::string& message, std::string state, bool timed_out)
      : std::runtime_error(message), state_(std::move(state)), timed_out_(timed_out) {}
  const std::string& state() const noexcept { return state_; }
  bool timed_out() const noexcept { return timed_out_; }

 private:
  std::string state_;
  bool timed_out_;
};

// The watchdog cut a statement that overran command_timeout: the request was
// sent, so a write may or may not have been applied.
class StatementCut : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The SQLSTATEs meaning the session is gone or the server is going away.
bool is_connection_state(std::string_view state);

// The code of a statement's SQLSTATE.
ErrorCode code_for_sqlstate(std::string_view state);

// The code of a failed connection attempt: retryable codes only for the
// network's or the server's state, never for a refusal of what the URL asked.
ErrorCode code_for_connect_failure(std::string_view state, std::string_view message);

// Whether a SQLSTATE means the statement was rejected without effect and may
// simply be repeated (serialization failure, deadlock).
bool is_transient_state(std::string_view state);

// The first line of a libpq message without its "ERROR:  " tag.
std::string first_line(std::string_view text);

// " (SQLSTATE 42P01)", or "" when there is no state.
std::string state_suffix(std::string_view state);

// A connection failure as libpq reports it with PQERRORS_VERBOSE ("...
// FATAL:  28P01: password authentication failed ..."): the line with the
// server's error (or the first line) without the state, and the state.
struct ConnectMessage {
  std::string text;
  std::string state;
};
ConnectMessage parse_connect_message(std::string_view raw);

// The classifier for run_with_retry(): SqlError, ConnectError, StatementCut
// and libpqxx's exceptions become a Failure whose message names `target`
// (a URL without its password).
Failure classify(const std::exception& e, const std::string& target);

}  // namespace kvstore::postgres::detail
