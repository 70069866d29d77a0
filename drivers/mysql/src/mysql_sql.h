// The MySQL driver's SQL: every statement it prepares, the sweep and the
// schema. docs/drivers/mysql.md explains why each statement is atomic.
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace kvstore::mysql {

// Every write takes its expiry as two parameters, (absolute ms, ttl ms),
// at most one of them non-NULL: expires_at = COALESCE(abs, now + ttl), so
// that one statement per kind serves permanent, TTL and absolute writes.
// Metadata is one parameter, NULL for none.
enum Stmt : std::size_t {
  kGet,
  kGetEntry,
  kSet,
  kRemove,
  kLive,
  kCreate,
  kReplace,
  kReplacedAlready,
  kDeleteIf,
  kListTo,
  kListAll,
  kKeysTo,
  kKeysAll,
  kStmtCount,
};

// The layout this code writes, recorded in the table's COMMENT as
// kLayoutComment. Version 1 (the table without metadata) carried no comment.
inline constexpr int kLayoutVersion = 2;
inline constexpr const char* kLayoutCommentPrefix = "kvstore layout ";
std::string layout_comment(int version);
// The version in a table COMMENT, or 0 if the comment is not a layout record.
int parse_layout_comment(std::string_view comment);

// The server's clock in Unix milliseconds. Sessions run with time_zone
// '+00:00', so NOW(3) -> UNIX_TIMESTAMP is exact (no DST ambiguity), and
// NOW() is fixed for the duration of one statement.
inline constexpr const char* kNowMs = "CAST(UNIX_TIMESTAMP(NOW(3)) * 1000 AS SIGNED)";

std::array<std::string, kStmtCount> statement_texts(const std::string& table);
// The bulk statements, for `rows` keys or entries: `SELECT k, v ... WHERE k
// IN (?, ...) AND live`, a multi-row `INSERT ... ON DUPLICATE KEY UPDATE`
// with (key, value, metadata or NULL, absolute ms or NULL, ttl ms or NULL) per row, `DELETE ...
// WHERE k IN (?, ...)`.
enum class Bulk : std::size_t { get, set, remove };
std::string bulk_text(const std::string& table, Bulk which, std::size_t rows);

// A bulk statement takes at most this many rows, and this many bytes of
// parameters unless one item alone is bigger: far below MariaDB's default
// max_allowed_packet of 16 MiB, which bounds a whole statement.
inline constexpr std::size_t kBulkRows = 512;
inline constexpr std::size_t kBulkBytes = std::size_t{4} << 20;

// Cuts items of the given sizes, in order, into consecutive batches of at
// most kBulkRows items and `max_bytes` bytes (an item bigger than that goes
// alone). Each batch's size is a power of two, so that a connection prepares
// at most log2(kBulkRows) + 1 statements of each kind.
std::vector<std::size_t> bulk_batches(const std::vector<std::size_t>& item_bytes,
                                      std::size_t max_bytes);

std::string sweep_text(const std::string& table, std::size_t batch);
std::string create_table_text(const std::string& table);
// Upgrades a layout-1 table to layout 2 in one ALTER (the column and the
// version record change together).
std::string upgrade_table_text(const std::string& table);
// Stamps the layout record on a table that has the layout-2 columns.
std::string stamp_table_text(const std::string& table);
// GET_LOCK / RELEASE_LOCK of the table's upgrade lock; one parameter: the
// table name (the lock name hashes database and table into 64 characters).
std::string upgrade_lock_text(int wait_seconds);
std::string upgrade_unlock_text();
// Per connection: strict mode so nothing is ever truncated silently; UTC so
// NOW(3) maps to Unix time exactly; the InnoDB lock wait in whole seconds.
std::string session_setup_text(int lock_wait_seconds);

}  // namespace kvstore::mysql
