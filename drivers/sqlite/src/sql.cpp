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

bool is_layout_table(std::string_view table) {
  if (table.size() != kLayoutTable.size()) return false;
  for (std::size_t i = 0; i < table.size(); ++i) {
    char c = table[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != kLayoutTable[i]) return false;
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
  const std::string keys_index = "\"" + table + "_keys\"";
  const std::string layout = "\"" + std::string(kLayoutTable) + "\"";
  // Validated as above: safe inside quotes.
  const std::string name = "'" + table + "'";
  // A BLOB key compares with memcmp, which is the order of encoded keys, and
  // is immune to the database's text encoding. The primary key's index holds
  // only keys, so searches and range scans touch few pages. Not WITHOUT ROWID:
  // its b-tree keeps rows of more than about 1,000 bytes partly on overflow
  // pages, which made 1 KiB values 2x slower to get and 6x slower to list
  // (docs/drivers/sqlite.md has the numbers).
  // Metadata (JSON text, NULL: none) comes last because version 1 tables
  // gain it with ALTER TABLE ADD COLUMN, which rewrites no row.
  create_table =
      "CREATE TABLE IF NOT EXISTS " + t +
      " (k BLOB NOT NULL PRIMARY KEY, v TEXT NOT NULL, expires_at INTEGER, metadata TEXT)";
  add_metadata = "ALTER TABLE " + t + " ADD COLUMN metadata TEXT";
  // Only rows with a TTL are indexed: the sweep finds the oldest expired rows
  // without touching permanent ones.
  create_index = "CREATE INDEX IF NOT EXISTS " + index + " ON " + t +
                 " (expires_at) WHERE expires_at IS NOT NULL";
  // A keys-only listing reads this index alone. In the table, expires_at and
  // metadata sit after v in each row, so reaching them there would walk a
  // large value's overflow pages: cost per byte instead of per key.
  create_keys_index =
      "CREATE INDEX IF NOT EXISTS " + keys_index + " ON " + t + " (k, expires_at, metadata)";
  table_columns = "SELECT name FROM pragma_table_info(?1) ORDER BY cid";
  // Names compare without case, as SQLite's own table names do.
  create_layout =
      "CREATE TABLE IF NOT EXISTS " + layout +
      " (table_name TEXT NOT NULL PRIMARY KEY COLLATE NOCASE, version INTEGER NOT NULL)";
  layout_version = "SELECT version FROM " + layout + " WHERE table_name = " + name;
  set_layout_version = "INSERT INTO " + layout + " (table_name, version) VALUES (" + name +
                       ", ?1) ON CONFLICT (table_name) DO UPDATE SET version = excluded.version";

  const std::string live_row = "(expires_at IS NULL OR expires_at > ";
  get = "SELECT v FROM " + t + " WHERE k = ?1 AND " + live_row + "?2)";
  get_entry = "SELECT v, metadata, expires_at FROM " + t + " WHERE k = ?1 AND " + live_row + "?2)";
  live = "SELECT 1 FROM " + t + " WHERE k = ?1 AND " + live_row + "?2)";
  upsert = "INSERT INTO " + t + " (k, v, expires_at, metadata) VALUES (?1, ?2, ?3, ?4)" +
           " ON CONFLICT (k) DO UPDATE SET v = excluded.v, expires_at = excluded.expires_at," +
           " metadata = excluded.metadata";
  remove = "DELETE FROM " + t + " WHERE k = ?1";
  insert_absent = upsert + " WHERE " + t + ".expires_at IS NOT NULL AND " + t + ".expires_at <= ?5";
  replace_equal = "UPDATE " + t + " SET v = ?2, expires_at = ?3, metadata = ?4 WHERE k = ?1 AND " +
                  "v = ?5 AND " + live_row + "?6)";
  remove_equal = "DELETE FROM " + t + " WHERE k = ?1 AND v = ?2 AND " + live_row + "?3)";
  const std::string bounded =
      " WHERE k >= ?1 AND k < ?2 AND " + live_row + "?3) ORDER BY k LIMIT ?4";
  const std::string unbounded = " WHERE k >= ?1 AND " + live_row + "?3) ORDER BY k LIMIT ?4";
  list_bounded = "SELECT k, v, metadata, expires_at FROM " + t + bounded;
  list_unbounded = "SELECT k, v, metadata, expires_at FROM " + t + unbounded;
  // INDEXED BY pins the plan to the covering index (the driver test checks
  // that it covers), and makes the statement fail to prepare, rather than
  // quietly read rows and their values, should the index be missing.
  const std::string keys_only =
      "SELECT k, metadata, expires_at FROM " + t + " INDEXED BY " + keys_index;
  list_keys_bounded = keys_only + bounded;
  list_keys_unbounded = keys_only + unbounded;
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
