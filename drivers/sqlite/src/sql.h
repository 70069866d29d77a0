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
  // [b]: ?1 now, ?2 .. ?(1 + 2^b) keys (NULL: none) -> k, v of the live ones
  std::array<std::string, kGetManyBuckets> get_many;
};

}  // namespace kvstore::sqlite::detail
