// The PostgreSQL driver's native error table and classifier, without a
// server: what each SQLSTATE and libpq failure becomes, and what the kit's
// retry runner then does with it.
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>

#include <kvstore/driver/connection_pool.h>
#include <kvstore/driver/retry.h>
#include <kvstore/error.h>

#include <catch2/catch.hpp>
#include <pqxx/except>

#include "postgres_errors.h"

namespace {

using kvstore::ErrorCode;
using kvstore::Failure;
using kvstore::Idempotence;
using namespace kvstore::postgres::detail;

const std::string kTarget = "postgres://kvstore@127.0.0.1:5432/kvstore";

Failure classified(const std::exception& e) { return classify(e, kTarget); }

}  // namespace

TEST_CASE("postgres errors: the SQLSTATE table maps each situation like every driver",
          "[postgres][errors]") {
  struct Row {
    const char* state;
    ErrorCode code;
  };
  for (const Row& row : {
           Row{"57014", ErrorCode::timeout},            // statement_timeout
           Row{"55P03", ErrorCode::timeout},            // lock_timeout
           Row{"40001", ErrorCode::conflict},           // serialization failure
           Row{"40P01", ErrorCode::conflict},           // deadlock
           Row{"08006", ErrorCode::unavailable},        // connection failure
           Row{"57P01", ErrorCode::unavailable},        // admin shutdown
           Row{"53300", ErrorCode::unavailable},        // too many connections
           Row{"28P01", ErrorCode::permission_denied},  // bad password
           Row{"42501", ErrorCode::permission_denied},  // no privilege
           Row{"25006", ErrorCode::permission_denied},  // read-only transaction
           Row{"3D000", ErrorCode::invalid_argument},   // unknown database
           Row{"3F000", ErrorCode::invalid_argument},   // unknown schema
           Row{"54000", ErrorCode::limit_exceeded},     // program limit
           Row{"42P01", ErrorCode::internal},           // undefined table (recreated first)
           Row{"XX000", ErrorCode::internal},
       }) {
    INFO(row.state);
    CHECK(code_for_sqlstate(row.state) == row.code);
  }
}

TEST_CASE("postgres errors: connection failures are retryable only for the network's state",
          "[postgres][errors]") {
  CHECK(code_for_connect_failure("28P01", "password authentication failed") ==
        ErrorCode::permission_denied);
  CHECK(code_for_connect_failure("28000", "role \"x\" does not exist") ==
        ErrorCode::permission_denied);
  CHECK(code_for_connect_failure("3D000", "database \"x\" does not exist") ==
        ErrorCode::invalid_argument);
  CHECK(code_for_connect_failure("42704", "unrecognized configuration parameter") ==
        ErrorCode::invalid_argument);
  CHECK(code_for_connect_failure("57P03", "the database system is starting up") ==
        ErrorCode::unavailable);
  CHECK(code_for_connect_failure("53300", "too many clients") == ErrorCode::unavailable);
  CHECK(code_for_connect_failure("", "could not connect to server: Connection refused") ==
        ErrorCode::unavailable);
  CHECK(code_for_connect_failure("", "invalid sslmode value: \"bogus\"") ==
        ErrorCode::invalid_argument);
  CHECK(code_for_connect_failure("", "invalid integer value \"many\" for connection option") ==
        ErrorCode::invalid_argument);
}

TEST_CASE("postgres errors: a verbose libpq message yields the server's line and SQLSTATE",
          "[postgres][errors]") {
  const ConnectMessage m = parse_connect_message(
      "connection to server at \"127.0.0.1\", port 5432 failed: FATAL:  28P01: password "
      "authentication failed for user \"kvstore\"\nLOCATION:  auth_failed, auth.c:326\n");
  CHECK(m.state == "28P01");
  CHECK(m.text ==
        "connection to server at \"127.0.0.1\", port 5432 failed: FATAL:  password "
        "authentication failed for user \"kvstore\"");
  const ConnectMessage plain = parse_connect_message("could not connect: Connection refused\n\tIs");
  CHECK(plain.state.empty());
  CHECK(plain.text == "could not connect: Connection refused");
  CHECK(first_line("ERROR:  relation \"t\" does not exist\nLINE 1: SELECT") ==
        "relation \"t\" does not exist");
}

TEST_CASE("postgres errors: the classifier fills every Failure field", "[postgres][errors]") {
  SECTION("a serialization failure: conflict, transient, had no effect") {
    const Failure f = classified(SqlError("could not serialize access", "40001", false));
    CHECK(f.code == ErrorCode::conflict);
    CHECK(f.native_code == "40001");
    CHECK(f.transient);
    CHECK_FALSE(f.maybe_sent);
    CHECK_FALSE(f.connection_broken);
    CHECK(f.message == "could not serialize access (SQLSTATE 40001)");
  }
  SECTION("a connection that broke under a statement: unavailable, maybe applied") {
    const Failure f = classified(SqlError("server closed the connection", "", true));
    CHECK(f.code == ErrorCode::unavailable);
    CHECK(f.connection_broken);
    CHECK(f.maybe_sent);
    CHECK_FALSE(f.transient);
    CHECK(f.message.find("lost the connection to " + kTarget) == 0);
  }
  SECTION("an administrator's termination carries its SQLSTATE") {
    const Failure f = classified(SqlError("terminating connection", "57P01", false));
    CHECK(f.code == ErrorCode::unavailable);
    CHECK(f.native_code == "57P01");
    CHECK(f.connection_broken);
  }
  SECTION("a lock wait: timeout, not broken") {
    const Failure f =
        classified(SqlError("canceling statement due to lock timeout", "55P03", false));
    CHECK(f.code == ErrorCode::timeout);
    CHECK(f.native_code == "55P03");
    CHECK_FALSE(f.connection_broken);
    CHECK_FALSE(f.transient);
  }
  SECTION("the watchdog's cut: timeout on a broken connection, maybe applied") {
    const Failure f = classified(StatementCut("timed out after 1000ms waiting for a reply"));
    CHECK(f.code == ErrorCode::timeout);
    CHECK(f.connection_broken);
    CHECK(f.maybe_sent);
    CHECK(f.native_code.empty());
  }
  SECTION("refused credentials: permission_denied with the server's SQLSTATE") {
    const Failure f = classified(ConnectError("password authentication failed", "28P01", false));
    CHECK(f.code == ErrorCode::permission_denied);
    CHECK(f.native_code == "28P01");
    CHECK_FALSE(f.maybe_sent);
    CHECK(f.message ==
          "cannot connect to " + kTarget + ": password authentication failed (SQLSTATE 28P01)");
  }
  SECTION("connect_timeout passing: timeout, nothing sent") {
    const Failure f = classified(ConnectError("timed out after 1001ms", "", true));
    CHECK(f.code == ErrorCode::timeout);
    CHECK_FALSE(f.maybe_sent);
    CHECK(f.native_code.empty());
  }
  SECTION("libpqxx's broken connection: unavailable") {
    const Failure f = classified(pqxx::broken_connection("connection lost"));
    CHECK(f.code == ErrorCode::unavailable);
    CHECK(f.connection_broken);
  }
}

TEST_CASE("postgres errors: the kit turns classified failures into the caller's Error",
          "[postgres][errors]") {
  kvstore::ConnectionPool<int> pool({}, [] { return std::make_unique<int>(0); });
  const kvstore::ErrorClassifier classify = [](const std::exception& e) {
    return kvstore::postgres::detail::classify(e, kTarget);
  };
  const auto deadline = kvstore::deadline_after(std::chrono::seconds(5));

  SECTION("a cas cut by the watchdog is not retried and its outcome is unknown") {
    int attempts = 0;
    try {
      kvstore::run_with_retry(pool, classify, Idempotence::not_idempotent, deadline, [&](int&) {
        ++attempts;
        throw StatementCut("timed out");
        return true;
      });
      FAIL("no error");
    } catch (const kvstore::Error& e) {
      CHECK(e.code() == ErrorCode::timeout);
      CHECK(e.outcome_unknown());
      CHECK(e.retryable());
    }
    CHECK(attempts == 1);
  }
  SECTION("a serialization failure of a cas is retried: it was not applied") {
    int attempts = 0;
    const bool swapped =
        kvstore::run_with_retry(pool, classify, Idempotence::not_idempotent, deadline, [&](int&) {
          if (++attempts == 1) throw SqlError("could not serialize access", "40001", false);
          return true;
        });
    CHECK(swapped);
    CHECK(attempts == 2);
  }
  SECTION("refused credentials are never retried and carry the SQLSTATE") {
    int attempts = 0;
    try {
      kvstore::run_with_retry(pool, classify, Idempotence::idempotent, deadline, [&](int&) {
        ++attempts;
        throw ConnectError("password authentication failed", "28P01", false);
        return 0;
      });
      FAIL("no error");
    } catch (const kvstore::Error& e) {
      CHECK(e.code() == ErrorCode::permission_denied);
      CHECK(e.native_code() == "28P01");
      CHECK_FALSE(e.retryable());
      CHECK_FALSE(e.outcome_unknown());
    }
    CHECK(attempts == 1);
  }
}
