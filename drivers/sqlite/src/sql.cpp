#include "sql.h"

namespace kvstore::sqlite::detail {

bool valid_table_name(std::string_view table) {
  if (table.empty() || table.size() > 64) return false;
  auto alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
  if (!alpha(table[0])) return false;
  for (char c : table) {
    if (!alpha(c) && !(c >= '0' && c <= '9')) return false;
  }
  // SQLite reserves the sqlite_ prefix (any case) for its own tables.
  constexpr std::string_view reserved = "sqlite_";
  if (table.size() >= reserved.size()) {
    for (std::size_t i = 0; i < reserved.size(); ++i) {
      char c = table[i];
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      if (c != reserved[i]) return true;
    }
    return false;
  }
  return true;
}

std::size_t get_many_bucket(std::size_t keys) {
  std::size_t bucket = 0;
  while ((std::size_t{1} << bucket) < keys) ++bucket;
  return bucket;
}

Sql::Sql(const std::string& table) {
  // The name is validated to [A-Za-z_][A-Za-z0-9_]*, so quoting cannot be
  // escaped; quoting still keeps keywords such as "order" usable.
  const std::string t = "\"" + table + "\"";
  const std::string index = "\"" + table + "_expires_at\"";
  // A BLOB key compares with memcmp, which is the order of encoded keys, and
  // is immune to the database's text encoding. The primary key's index holds
  // only keys, so searches and range scans touch few pages. Not WITHOUT ROWID:
  // its b-tree keeps rows of more than about 1,000 bytes partly on overflow
  // pages, which made 1 KiB values 2x slower to get and 6x slower to list
  // (docs/drivers/sqlite.md has the numbers).
  create_table = "CREATE TABLE IF NOT EXISTS " + t +
                 " (k BLOB NOT NULL PRIMARY KEY, v TEXT NOT NULL, expires_at INTEGER)";
  // Only rows with a TTL are indexed: the sweep finds the oldest expired rows
  // without touching permanent ones.
  create_index = "CREATE INDEX IF NOT EXISTS " + index + " ON " + t +
                 " (expires_at) WHERE expires_at IS NOT NULL";
  table_columns = "SELECT name FROM pragma_table_info(?1) ORDER BY cid";

  const std::string live_row = "(expires_at IS NULL OR expires_at > ";
  get = "SELECT v FROM " + t + " WHERE k = ?1 AND " + live_row + "?2)";
  live = "SELECT 1 FROM " + t + " WHERE k = ?1 AND " + live_row + "?2)";
  upsert = "INSERT INTO " + t + " (k, v, expires_at) VALUES (?1, ?2, ?3)" +
           " ON CONFLICT (k) DO UPDATE SET v = excluded.v, expires_at = excluded.expires_at";
  remove = "DELETE FROM " + t + " WHERE k = ?1";
  insert_absent = upsert + " WHERE " + t + ".expires_at IS NOT NULL AND " + t + ".expires_at <= ?4";
  replace_equal = "UPDATE " + t + " SET v = ?2, expires_at = ?3 WHERE k = ?1 AND v = ?4 AND " +
                  live_row + "?5)";
  remove_equal = "DELETE FROM " + t + " WHERE k = ?1 AND v = ?2 AND " + live_row + "?3)";
  list_bounded = "SELECT k, v FROM " + t + " WHERE k >= ?1 AND k < ?2 AND " + live_row +
                 "?3) ORDER BY k LIMIT ?4";
  list_unbounded =
      "SELECT k, v FROM " + t + " WHERE k >= ?1 AND " + live_row + "?3) ORDER BY k LIMIT ?4";
  sweep = "DELETE FROM " + t + " WHERE k IN (SELECT k FROM " + t +
          " WHERE expires_at <= ?1 ORDER BY expires_at LIMIT ?2)";
  // The keys as a VALUES list, CROSS JOINed (which SQLite never reorders)
  // to the table: one primary-key search per key. A plain `k IN (...)` is
  // left to the planner, which scans the whole table when its statistics
  // say the table is small next to the list, and keeps scanning once the
  // table has grown past stale statistics.
  for (std::size_t bucket = 0; bucket < kGetManyBuckets; ++bucket) {
    std::string values;
    for (std::size_t i = 0; i < (std::size_t{1} << bucket); ++i) {
      values += (i == 0 ? "(?" : ", (?") + std::to_string(i + 2) + ")";
    }
    get_many[bucket] = "SELECT t.k, t.v FROM (VALUES " + values + ") AS q CROSS JOIN " + t +
                       " AS t ON t.k = q.column1 WHERE " + live_row + "?1)";
  }
}

}  // namespace kvstore::sqlite::detail
