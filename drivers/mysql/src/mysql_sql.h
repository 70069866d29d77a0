// The MySQL driver's SQL: every statement it prepares, the sweep and the
// schema. docs/drivers/mysql.md explains why each statement is atomic.
#pragma once

#include <array>
#include <cstddef>
#include <string>

namespace kvstore::mysql {

enum Stmt : std::size_t {
  kGet,
  kSet,
  kSetTtl,
  kRemove,
  kLive,
  kCreate,
  kCreateTtl,
  kReplace,
  kReplaceTtl,
  kReplacedAlready,
  kReplacedAlreadyTtl,
  kDeleteIf,
  kListTo,
  kListAll,
  kStmtCount,
};

// The server's clock in Unix milliseconds. Sessions run with time_zone
// '+00:00', so NOW(3) -> UNIX_TIMESTAMP is exact (no DST ambiguity), and
// NOW() is fixed for the duration of one statement.
inline constexpr const char* kNowMs = "CAST(UNIX_TIMESTAMP(NOW(3)) * 1000 AS SIGNED)";

std::array<std::string, kStmtCount> statement_texts(const std::string& table);
std::string sweep_text(const std::string& table, std::size_t batch);
std::string create_table_text(const std::string& table);
// Per connection: strict mode so nothing is ever truncated silently; UTC so
// NOW(3) maps to Unix time exactly; the InnoDB lock wait in whole seconds.
std::string session_setup_text(int lock_wait_seconds);

}  // namespace kvstore::mysql
