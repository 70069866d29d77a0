// The SQL the SQLite driver runs, in one place so tests can EXPLAIN exactly
// these statements. Internal: not installed.
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <string_view>

namespace kvstore::sqlite::detail {

// get_many reads at most kGetManyMaxKeys keys per statement. A smaller batch
// runs the statement of the next power of two with NULLs in the spare slots
// (NULL matches no key), so a connection prepares at most kGetManyBuckets of
// them rather than one per batch size. 513 variables is below even the 999
// that SQLite builds before 3.32 allow.
inline constexpr std::size_t kGetManyBuckets = 10;
inline constexpr std::size_t kGetManyMaxKeys = std::size_t{1} << (kGetManyBuckets - 1);

// The statement class of a batch of `keys` (1..kGetManyMaxKeys) keys: it has
// 1 << get_many_bucket(keys) key slots.
std::size_t get_many_bucket(std::size_t keys);

// Whether `table` is a name the driver accepts (and can quote safely).
bool valid_table_name(std::string_view table);

// The layout version this code writes, and the table that records each data
// table's version in its file (PRAGMA user_version is one number per file,
// but a file holds any number of tables, upgraded one at a time).
// Version 1 (no version row): k, v, expires_at. Version 2: plus metadata and
// the covering index <table>_keys for keys-only listings.
inline constexpr int kLayoutVersion = 2;
inline constexpr std::string_view kLayoutTable = "kvstore_layout";
// Whether `table` names kLayoutTable (SQLite compares names without case).
bool is_layout_table(std::string_view table);

// Every statement for one table. Parameters are numbered; keys are bound as
// BLOBs, JSON text as TEXT, times as unix epoch milliseconds.
struct Sql {
  explicit Sql(const std::string& table);

  std::string create_table;
  std::string create_index;
  std::string create_keys_index;   // covering (k, expires_at, metadata): list_keys
  std::string add_metadata;        // the version 1 -> 2 upgrade's column
  std::string table_columns;       // the table's column names, one per row
  std::string create_layout;       // kLayoutTable, if absent
  std::string layout_version;      // -> the table's recorded version, if any
  std::string set_layout_version;  // ?1 version

  // Write parameters: ?1 key, ?2 json, ?3 expires_at or NULL, ?4 metadata or
  // NULL; statements with more take them from ?5 on.
  std::string get;            // ?1 key, ?2 now -> v
  std::string get_entry;      // ?1 key, ?2 now -> v, metadata, expires_at
  std::string live;           // ?1 key, ?2 now -> 1 if a live row exists
  std::string upsert;         // ?1 .. ?4
  std::string remove;         // ?1 key
  std::string insert_absent;  // like upsert, but only over an absent or expired (?5 now) row
  std::string replace_equal;  // ?1 .. ?4, ?5 expected json, ?6 now
  std::string remove_equal;   // ?1 key, ?2 expected json, ?3 now
  // ?1 begin, ?2 end, ?3 now, ?4 limit -> k, v, metadata, expires_at
  std::string list_bounded;
  std::string list_unbounded;  // as list_bounded without ?2
  // As the lists without v, from the covering index alone: never reads a value.
  std::string list_keys_bounded;  // -> k, metadata, expires_at
  std::string list_keys_unbounded;
  std::string sweep;  // ?1 now, ?2 batch
  // [b]: ?1 now, ?2 .. ?(1 + 2^b) keys (NULL: none) -> k, v of the live ones
  std::array<std::string, kGetManyBuckets> get_many;
};

}  // namespace kvstore::sqlite::detail
