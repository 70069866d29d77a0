// The SQL the SQLite driver runs, in one place so tests can EXPLAIN exactly
// these statements. Internal: not installed.
#pragma once

#include <string>
#include <string_view>

namespace kvstore::sqlite::detail {

// Whether `table` is a name the driver accepts (and can quote safely).
bool valid_table_name(std::string_view table);

// Every statement for one table. Parameters are numbered; keys are bound as
// BLOBs, JSON text as TEXT, times as unix epoch milliseconds.
struct Sql {
  explicit Sql(const std::string& table);

  std::string create_table;
  std::string create_index;
  std::string table_columns;  // the table's column names, one per row

  std::string get;             // ?1 key, ?2 now -> v
  std::string live;            // ?1 key, ?2 now -> 1 if a live row exists
  std::string upsert;          // ?1 key, ?2 json, ?3 expires_at or NULL
  std::string remove;          // ?1 key
  std::string insert_absent;   // like upsert, but only over an absent or expired (?4 now) row
  std::string replace_equal;   // ?1 key, ?2 json, ?3 expires_at, ?4 expected json, ?5 now
  std::string remove_equal;    // ?1 key, ?2 expected json, ?3 now
  std::string list_bounded;    // ?1 begin, ?2 end, ?3 now, ?4 limit -> k, v
  std::string list_unbounded;  // ?1 begin, ?3 now, ?4 limit -> k, v
  std::string sweep;           // ?1 now, ?2 batch
};

}  // namespace kvstore::sqlite::detail
