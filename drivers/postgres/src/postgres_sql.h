// The driver's SQL: the schema and the prepared statements every pooled
// connection runs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kvstore::postgres::detail {

// The statement names every pooled connection prepares.
inline constexpr const char* kGet = "kv_get";
inline constexpr const char* kGetEntry = "kv_get_entry";
inline constexpr const char* kSet = "kv_set";
inline constexpr const char* kRemove = "kv_remove";
inline constexpr const char* kCreate = "kv_create";
inline constexpr const char* kReplace = "kv_replace";
inline constexpr const char* kDeleteIf = "kv_delete_if";
inline constexpr const char* kAbsent = "kv_absent";
inline constexpr const char* kList = "kv_list";
inline constexpr const char* kListOpen = "kv_list_open";
inline constexpr const char* kListKeys = "kv_list_keys";
inline constexpr const char* kListKeysOpen = "kv_list_keys_open";
inline constexpr const char* kSweep = "kv_sweep";
inline constexpr const char* kGetMany = "kv_get_many";
inline constexpr const char* kSetMany = "kv_set_many";
inline constexpr const char* kRemoveMany = "kv_remove_many";

// One round trip at session start: quiet notices; READ COMMITTED whatever
// the database's default, because the cas statements rely on it; and
// generic plans, which are ordered primary-key walks for every statement
// (custom plans cost planning time on each call and, with kvstore's 0x01
// separators skewing the estimates, can sort a bitmap scan of the whole
// prefix instead of stopping at LIMIT).
std::string session_setup_sql(long long statement_timeout_ms);

// The table layout this code writes, recorded as the table's comment
// ("kvstore layout 2"). Layout 1 (no comment, no metadata column) is what
// kvstore wrote before entry metadata; first use upgrades it in place.
inline constexpr long long kLayoutVersion = 2;
inline constexpr std::string_view kLayoutPrefix = "kvstore layout ";

// `qualified`: the quoted [schema.]table.
std::string create_table_sql(const std::string& qualified);
std::string create_index_sql(const std::string& qualified, const std::string& quoted_index);
// Layout 1 -> 2: adds the metadata column (a catalog-only change: existing
// rows get NULL, none is rewritten).
std::string upgrade_sql(const std::string& qualified);
// Records kLayoutVersion as the table's comment.
std::string record_layout_sql(const std::string& qualified);
// The version a table comment records, or std::nullopt if it records none.
std::optional<long long> recorded_layout(std::string_view comment);
// One row: the table's columns as "name type [COLLATE c], ...", whether k
// alone has a unique index, and the table's comment ("" if none).
// `table_literal`: the qualified name as a quoted SQL literal.
std::string describe_table_sql(const std::string& table_literal);
// What describe_table_sql() gives for a table of layout 1 and of layout 2.
inline constexpr std::string_view kColumnsV1 =
    "k text COLLATE \"C\", v text COLLATE \"C\", expires_at timestamp with time zone";
inline constexpr std::string_view kColumnsV2 =
    "k text COLLATE \"C\", v text COLLATE \"C\", expires_at timestamp with time zone, "
    "metadata text COLLATE \"C\"";

// "<table>_expires_idx", shortened with a hash when the table name is long
// (PostgreSQL would truncate it and two tables could then collide).
std::string index_name(const std::string& table);

// (name, SQL) of every prepared statement.
std::vector<std::pair<std::string, std::string>> statements(const std::string& qualified);

// One-dimensional array parameter in PostgreSQL's binary format (what
// array_recv reads), so that keys and JSON text travel without the quoting
// and escaping of array literals. Elements are added in order; the count
// given up front must match.
class ArrayParam {
 public:
  static constexpr std::uint32_t kText = 25;  // pg_type OIDs of the elements
  static constexpr std::uint32_t kInt8 = 20;

  // `payload_bytes`: the elements' total size, to allocate once.
  ArrayParam(std::uint32_t element_oid, std::size_t count, std::size_t payload_bytes = 0);
  void add(std::string_view text);
  void add_nullable(const std::optional<std::string>& text);  // nullopt: NULL
  void add(std::optional<std::int64_t> number);               // nullopt: NULL
  const std::string& bytes() const { return bytes_; }

 private:
  void put32(std::uint32_t v);
  std::string bytes_;
};

}  // namespace kvstore::postgres::detail
