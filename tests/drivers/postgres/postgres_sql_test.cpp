// The driver's statements as text, without a server: what the keys-only
// listings read, and the layout record.
#include <algorithm>
#include <cctype>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "postgres_sql.h"

namespace {

using namespace kvstore::postgres::detail;

std::string statement(const std::string& name) {
  for (const auto& [n, sql] : statements("\"t\"")) {
    if (n == name) return sql;
  }
  FAIL("no statement " << name);
  return {};
}

// The select list of a SELECT statement (up to its top-level FROM), split at
// top-level commas and trimmed.
std::vector<std::string> select_list(const std::string& sql) {
  REQUIRE(sql.rfind("SELECT ", 0) == 0);
  std::vector<std::string> items;
  std::string item;
  int depth = 0;
  for (std::size_t at = 7; at < sql.size(); ++at) {
    const char c = sql[at];
    if (depth == 0 && sql.compare(at, 6, " FROM ") == 0) break;
    if (c == '(') ++depth;
    if (c == ')') --depth;
    if (c == ',' && depth == 0) {
      items.push_back(item);
      item.clear();
      continue;
    }
    if (!(item.empty() && c == ' ')) item += c;
  }
  items.push_back(item);
  return items;
}

// Whether `sql` names the column `name` as a whole identifier.
bool names_column(const std::string& sql, const std::string& name) {
  for (std::size_t at = sql.find(name); at != std::string::npos; at = sql.find(name, at + 1)) {
    const auto word = [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
    };
    const bool starts = at == 0 || !word(sql[at - 1]);
    const bool ends = at + name.size() == sql.size() || !word(sql[at + name.size()]);
    if (starts && ends) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("postgres sql: the keys-only listings name no value column", "[list_keys]") {
  for (const char* name : {kListKeys, kListKeysOpen}) {
    const std::string sql = statement(name);
    INFO(sql);
    CHECK_FALSE(names_column(sql, "v"));
    const std::vector<std::string> items = select_list(sql);
    REQUIRE(items.size() == 3);
    CHECK(items[0] == "k");
    CHECK(items[1] == "metadata");
    CHECK(names_column(items[2], "expires_at"));
  }
  // The value listings do read it, so the check above can see a v.
  for (const char* name : {kList, kListOpen, kGetEntry}) {
    const std::string sql = statement(name);
    INFO(sql);
    CHECK(names_column(sql, "v"));
    CHECK(names_column(sql, "metadata"));
  }
}

TEST_CASE("postgres sql: every write statement stores metadata and both forms of expiry",
          "[metadata]") {
  for (const char* name : {kSet, kCreate, kReplace, kSetMany}) {
    const std::string sql = statement(name);
    INFO(sql);
    CHECK(names_column(sql, "metadata"));
    CHECK(sql.find("now() + ") != std::string::npos);
    CHECK(sql.find("timestamptz 'epoch' + ") != std::string::npos);
  }
}

TEST_CASE("postgres sql: the layout record reads back its version", "[layout]") {
  CHECK(record_layout_sql("\"t\"") == "COMMENT ON TABLE \"t\" IS 'kvstore layout 2'");
  CHECK(recorded_layout("kvstore layout 2") == 2);
  CHECK(recorded_layout("kvstore layout 17") == 17);
  CHECK_FALSE(recorded_layout("").has_value());
  CHECK_FALSE(recorded_layout("kvstore layout ").has_value());
  CHECK_FALSE(recorded_layout("kvstore layout 2b").has_value());
  CHECK_FALSE(recorded_layout("my own notes").has_value());
  CHECK(kColumnsV2.substr(0, kColumnsV1.size()) == kColumnsV1);
}
