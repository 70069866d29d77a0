#include "mysql_sql.h"

#include <kvstore/key_encoding.h>

namespace kvstore::mysql {

std::string layout_comment(int version) { return kLayoutCommentPrefix + std::to_string(version); }

int parse_layout_comment(std::string_view comment) {
  const std::string_view prefix = kLayoutCommentPrefix;
  if (comment.substr(0, prefix.size()) != prefix) return 0;
  const std::string_view digits = comment.substr(prefix.size());
  if (digits.empty() || digits.size() > 6) return 0;
  int version = 0;
  for (const char c : digits) {
    if (c < '0' || c > '9') return 0;
    version = version * 10 + (c - '0');
  }
  return version;
}

std::array<std::string, kStmtCount> statement_texts(const std::string& table) {
  const std::string t = "`" + table + "`";
  const std::string now = kNowMs;
  const std::string live = "(expires_at IS NULL OR expires_at > " + now + ")";
  // (absolute ms, ttl ms): NULL + NULL is NULL, a permanent entry.
  const std::string expiry = "COALESCE(?, " + now + " + ?)";
  std::array<std::string, kStmtCount> s;
  s[kGet] = "SELECT v FROM " + t + " WHERE k = ? AND " + live;
  s[kGetEntry] = "SELECT v, metadata, expires_at FROM " + t + " WHERE k = ? AND " + live;
  s[kSet] = "INSERT INTO " + t + " (k, v, metadata, expires_at) VALUES (?, ?, ?, " + expiry +
            ") ON DUPLICATE KEY UPDATE v = VALUES(v), metadata = VALUES(metadata),"
            " expires_at = VALUES(expires_at)";
  s[kRemove] = "DELETE FROM " + t + " WHERE k = ?";
  s[kLive] = "SELECT 1 FROM " + t + " WHERE k = ? AND " + live;
  // Create if absent or expired, in one statement: the insert either adds
  // the row or hits the existing one, which InnoDB then locks and re-reads
  // in its latest committed version (whatever the isolation level); the row
  // is overwritten only if that version has expired. Affected rows (without
  // CLIENT_FOUND_ROWS): 1 inserted, 2 overwrote an expired row, 0 live row
  // left alone. Assignments run left to right and see the values assigned
  // before them, so expires_at goes last: every IF() sees the old one.
  const std::string expired = "expires_at <= " + now;
  s[kCreate] = "INSERT INTO " + t + " (k, v, metadata, expires_at) VALUES (?, ?, ?, " + expiry +
               ") ON DUPLICATE KEY UPDATE v = IF(" + expired + ", VALUES(v), v), metadata = IF(" +
               expired + ", VALUES(metadata), metadata), expires_at = IF(" + expired +
               ", VALUES(expires_at), expires_at)";
  // UPDATE reads the latest committed row under an exclusive lock at every
  // isolation level, so the compare and the write are one atomic step. The
  // comparison is binary: v is a LONGBLOB.
  s[kReplace] = "UPDATE " + t + " SET v = ?, metadata = ?, expires_at = " + expiry +
                " WHERE k = ? AND v = ? AND " + live;
  // After an UPDATE that reported 0 changed rows while desired == expected:
  // was that "no match" or "matched but nothing to change"? Parameters:
  // absolute ms, ttl ms, metadata, key, value.
  s[kReplacedAlready] = "SELECT (expires_at <=> " + expiry + ") AND (metadata <=> ?) FROM " + t +
                        " WHERE k = ? AND v = ? AND " + live;
  s[kDeleteIf] = "DELETE FROM " + t + " WHERE k = ? AND v = ? AND " + live;
  const std::string entry = "k, v, metadata, expires_at";
  s[kListTo] = "SELECT " + entry + " FROM " + t + " WHERE k >= ? AND k < ? AND " + live +
               " ORDER BY k LIMIT ?";
  s[kListAll] =
      "SELECT " + entry + " FROM " + t + " WHERE k >= ? AND " + live + " ORDER BY k LIMIT ?";
  // Keys-only listings name no value column: a large value lives in
  // overflow pages that these never touch, and none crosses the network.
  const std::string keys = "k, metadata, expires_at";
  s[kKeysTo] = "SELECT " + keys + " FROM " + t + " WHERE k >= ? AND k < ? AND " + live +
               " ORDER BY k LIMIT ?";
  s[kKeysAll] =
      "SELECT " + keys + " FROM " + t + " WHERE k >= ? AND " + live + " ORDER BY k LIMIT ?";
  return s;
}

std::string bulk_text(const std::string& table, Bulk which, std::size_t rows) {
  const std::string t = "`" + table + "`";
  const std::string row =
      which == Bulk::set ? "(?, ?, ?, COALESCE(?, " + std::string(kNowMs) + " + ?))" : "?";
  std::string list;
  for (std::size_t i = 0; i < rows; ++i) list += (i == 0 ? "" : ", ") + row;
  switch (which) {
    case Bulk::get:
      return "SELECT k, v FROM " + t + " WHERE k IN (" + list + ") AND (expires_at IS NULL OR " +
             "expires_at > " + kNowMs + ")";
    case Bulk::set:
      // NULL absolute and ttl make expires_at NULL (permanent), as kSet does.
      return "INSERT INTO " + t + " (k, v, metadata, expires_at) VALUES " + list +
             " ON DUPLICATE KEY UPDATE v = VALUES(v), metadata = VALUES(metadata),"
             " expires_at = VALUES(expires_at)";
    case Bulk::remove:
      return "DELETE FROM " + t + " WHERE k IN (" + list + ")";
  }
  return {};
}

std::vector<std::size_t> bulk_batches(const std::vector<std::size_t>& item_bytes,
                                      std::size_t max_bytes) {
  std::vector<std::size_t> batches;
  for (std::size_t i = 0; i < item_bytes.size();) {
    std::size_t n = 1;
    std::size_t bytes = item_bytes[i];
    while (n < kBulkRows && i + n < item_bytes.size() && bytes + item_bytes[i + n] <= max_bytes) {
      bytes += item_bytes[i + n];
      ++n;
    }
    std::size_t size = 1;  // the largest power of two <= n
    while (size * 2 <= n) size *= 2;
    batches.push_back(size);
    i += size;
  }
  return batches;
}

std::string sweep_text(const std::string& table, std::size_t batch) {
  return "DELETE FROM `" + table + "` WHERE expires_at <= " + kNowMs +
         " ORDER BY expires_at LIMIT " + std::to_string(batch);
}

std::string create_table_text(const std::string& table) {
  // k: the encoded key (at most kMaxEncodedKeyBytes = 2304 bytes) as the
  // primary key; VARBINARY compares bytes without PAD SPACE, which is the key
  // order. 2304 bytes fits InnoDB's 3072-byte index limit (DYNAMIC rows,
  // 16 KiB pages). v: the JSON text, compared byte for byte by cas.
  return "CREATE TABLE IF NOT EXISTS `" + table + "` (k VARBINARY(" +
         std::to_string(kMaxEncodedKeyBytes) +
         ") NOT NULL, v LONGBLOB NOT NULL, expires_at BIGINT NULL, metadata BLOB NULL,"
         " PRIMARY KEY (k), KEY expires_at (expires_at))"
         " ENGINE=InnoDB ROW_FORMAT=DYNAMIC DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin"
         " COMMENT='" +
         layout_comment(kLayoutVersion) + "'";
}

std::string upgrade_table_text(const std::string& table) {
  // A nullable column at the end: an instant change in MariaDB 10.3+ and
  // MySQL 8.0, which rewrites no row. Old rows read metadata NULL (none).
  return "ALTER TABLE `" + table + "` ADD COLUMN metadata BLOB NULL, COMMENT = '" +
         layout_comment(kLayoutVersion) + "'";
}

std::string stamp_table_text(const std::string& table) {
  return "ALTER TABLE `" + table + "` COMMENT = '" + layout_comment(kLayoutVersion) + "'";
}

std::string upgrade_lock_text(int wait_seconds) {
  // GET_LOCK names are at most 64 characters in MySQL: a hash of
  // database.table keeps every table's lock apart within that.
  return "SELECT GET_LOCK(CONCAT('kvstore_layout_', SHA1(CONCAT(DATABASE(), '.', ?))), " +
         std::to_string(wait_seconds) + ")";
}

std::string upgrade_unlock_text() {
  return "SELECT RELEASE_LOCK(CONCAT('kvstore_layout_', SHA1(CONCAT(DATABASE(), '.', ?))))";
}

std::string session_setup_text(int lock_wait_seconds) {
  return "SET SESSION time_zone = '+00:00', "
         "sql_mode = 'STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION', "
         "innodb_lock_wait_timeout = " +
         std::to_string(lock_wait_seconds);
}

}  // namespace kvstore::mysql
