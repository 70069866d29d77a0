// The SQLite driver's error table, without a database: every SQLite result
// code the driver expects lands on the same kvstore code as in the other
// drivers, with its native code, and the kit's retry rule treats it right.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#include <sqlite3.h>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>

#include <SQLiteCpp/Exception.h>
#include <kvstore/driver/connection_pool.h>
#include <kvstore/driver/retry.h>

#include "sqlite_errors.h"

using namespace std::chrono_literals;
using kvstore::ErrorCode;
using kvstore::Failure;
using kvstore::Idempotence;
using kvstore::sqlite::detail::classify;
using kvstore::sqlite::detail::ClassifyContext;
using kvstore::sqlite::detail::SqliteError;

namespace {

const ClassifyContext kFile{.file_backed = true, .busy_timeout = 250ms};
const ClassifyContext kMemory{.file_backed = false, .busy_timeout = 250ms};

Failure of(int code, bool busy_gave_up = true, const ClassifyContext& context = kFile) {
  return classify(SqliteError(code, "doing something", busy_gave_up), context);
}

}  // namespace

TEST_CASE("sqlite errors: each result code maps to the shared code", "[sqlite][unit][errors]") {
  struct Row {
    int sqlite;
    ErrorCode code;
    bool retryable;
  };
  for (const Row& row : {
           Row{SQLITE_BUSY, ErrorCode::timeout, true},
           Row{SQLITE_BUSY_RECOVERY, ErrorCode::timeout, true},
           Row{SQLITE_LOCKED, ErrorCode::timeout, true},
           Row{SQLITE_INTERRUPT, ErrorCode::timeout, true},
           Row{SQLITE_BUSY_SNAPSHOT, ErrorCode::conflict, true},
           Row{SQLITE_READONLY, ErrorCode::permission_denied, false},
           Row{SQLITE_READONLY_DBMOVED, ErrorCode::permission_denied, false},
           Row{SQLITE_PERM, ErrorCode::permission_denied, false},
           Row{SQLITE_AUTH, ErrorCode::permission_denied, false},
           Row{SQLITE_NOTADB, ErrorCode::corrupt, false},
           Row{SQLITE_CORRUPT, ErrorCode::corrupt, false},
           Row{SQLITE_TOOBIG, ErrorCode::limit_exceeded, false},
           Row{SQLITE_CANTOPEN, ErrorCode::unavailable, true},
           Row{SQLITE_FULL, ErrorCode::unavailable, true},
           Row{SQLITE_IOERR_WRITE, ErrorCode::unavailable, true},
           Row{SQLITE_CONSTRAINT_UNIQUE, ErrorCode::internal, false},
           Row{SQLITE_ERROR, ErrorCode::internal, false},
       }) {
    INFO("SQLite code " << row.sqlite);
    const Failure failure = of(row.sqlite);
    CHECK(failure.code == row.code);
    // The extended result code, in decimal, is the native code.
    CHECK(failure.native_code == std::to_string(row.sqlite));
    CHECK(failure.message.find("doing something") == 0);
    const kvstore::Error error = kvstore::to_error(failure, Idempotence::idempotent);
    CHECK(error.code() == row.code);
    CHECK(error.retryable() == row.retryable);
    CHECK(error.native_code() == std::to_string(row.sqlite));
  }
}

TEST_CASE("sqlite errors: a lock error is repeated only while the lock wait is not spent",
          "[sqlite][unit][errors]") {
  const Failure spent = of(SQLITE_BUSY, true);
  CHECK_FALSE(spent.transient);
  CHECK(spent.message.find("busy_timeout=250ms") != std::string::npos);
  const Failure early = of(SQLITE_BUSY, false);
  CHECK(early.transient);
  CHECK(early.message.find("busy_timeout") == std::string::npos);
  // A failed statement had no effect, so even a cas may be repeated, and
  // its outcome is never unknown.
  CHECK_FALSE(spent.maybe_sent);
  CHECK_FALSE(spent.connection_broken);
  CHECK_FALSE(kvstore::to_error(spent, Idempotence::not_idempotent).outcome_unknown());
  CHECK(of(SQLITE_BUSY_SNAPSHOT).transient);
  CHECK_FALSE(of(SQLITE_INTERRUPT).transient);
}

TEST_CASE("sqlite errors: a disk failure under a cas leaves its outcome unknown",
          "[sqlite][unit][errors]") {
  const Failure io = of(SQLITE_IOERR_FSYNC);
  CHECK(io.maybe_sent);
  CHECK(io.connection_broken);  // a file connection is reopened
  const kvstore::Error cas = kvstore::to_error(io, Idempotence::not_idempotent);
  CHECK(cas.outcome_unknown());
  CHECK(cas.native_code() == std::to_string(SQLITE_IOERR_FSYNC));
  CHECK_FALSE(kvstore::to_error(io, Idempotence::idempotent).outcome_unknown());
  // An in-memory database lives in its one connection: never discarded.
  CHECK_FALSE(of(SQLITE_IOERR_FSYNC, true, kMemory).connection_broken);
}

TEST_CASE("sqlite errors: SQLite::Exception and foreign exceptions", "[sqlite][unit][errors]") {
  const Failure native = classify(SQLite::Exception("database is locked", SQLITE_BUSY), kFile);
  CHECK(native.code == ErrorCode::timeout);
  CHECK(native.native_code == "5");
  CHECK_FALSE(native.transient);
  const Failure other = classify(std::runtime_error("boom"), kFile);
  CHECK(other.code == ErrorCode::internal);
  CHECK(other.native_code.empty());
  CHECK(other.message == "boom");
}

TEST_CASE("sqlite errors: the kit repeats an early lock error, also for a cas",
          "[sqlite][unit][errors]") {
  kvstore::ConnectionPool<int> pool({.size = 1, .wait_timeout = 1s},
                                    [] { return std::make_unique<int>(0); });
  const kvstore::ErrorClassifier classifier = [](const std::exception& e) {
    return classify(e, kFile);
  };
  for (Idempotence idempotence : {Idempotence::idempotent, Idempotence::not_idempotent}) {
    int attempts = 0;
    const bool swapped =
        kvstore::run_with_retry(pool, classifier, idempotence, kvstore::deadline_after(1s),
                                [&](int&) {
                                  if (++attempts < 3)
                                    throw SqliteError(SQLITE_BUSY, "swapping", false);
                                  return true;
                                },
                                {.max_attempts = 10, .backoff = 1ms});
    CHECK(swapped);
    CHECK(attempts == 3);
  }
  // A spent lock wait is final: one attempt, Error(timeout) with code "5".
  int attempts = 0;
  try {
    kvstore::run_with_retry(pool, classifier, Idempotence::not_idempotent,
                            kvstore::deadline_after(1s), [&](int&) -> bool {
                              ++attempts;
                              throw SqliteError(SQLITE_BUSY, "swapping", true);
                            });
    FAIL("no error");
  } catch (const kvstore::Error& e) {
    CHECK(e.code() == ErrorCode::timeout);
    CHECK(e.native_code() == "5");
    CHECK_FALSE(e.outcome_unknown());
  }
  CHECK(attempts == 1);
}
