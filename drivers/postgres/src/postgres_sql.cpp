#include "postgres_sql.h"

#include <cstdio>
#include <functional>

namespace kvstore::postgres::detail {

std::string session_setup_sql(long long statement_timeout_ms) {
  return "SET client_min_messages = warning; "
         "SET default_transaction_isolation = 'read committed'; "
         "SET plan_cache_mode = force_generic_plan; "
         "SET statement_timeout = " +
         std::to_string(statement_timeout_ms);
}

std::string create_table_sql(const std::string& qualified) {
  return "CREATE TABLE IF NOT EXISTS " + qualified +
         " (k text COLLATE \"C\" PRIMARY KEY,"
         " v text COLLATE \"C\" NOT NULL,"
         " expires_at timestamptz,"
         " metadata text COLLATE \"C\")";
}

std::string upgrade_sql(const std::string& qualified) {
  return "ALTER TABLE " + qualified + " ADD COLUMN IF NOT EXISTS metadata text COLLATE \"C\"";
}

std::string record_layout_sql(const std::string& qualified) {
  return "COMMENT ON TABLE " + qualified + " IS '" + std::string(kLayoutPrefix) +
         std::to_string(kLayoutVersion) + "'";
}

std::optional<long long> recorded_layout(std::string_view comment) {
  if (comment.substr(0, kLayoutPrefix.size()) != kLayoutPrefix) return std::nullopt;
  const std::string_view digits = comment.substr(kLayoutPrefix.size());
  if (digits.empty() || digits.size() > 9) return std::nullopt;
  long long n = 0;
  for (const char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + (c - '0');
  }
  return n;
}

std::string create_index_sql(const std::string& qualified, const std::string& quoted_index) {
  return "CREATE INDEX IF NOT EXISTS " + quoted_index + " ON " + qualified +
         " (expires_at) WHERE expires_at IS NOT NULL";
}

std::string describe_table_sql(const std::string& table_literal) {
  return "WITH t AS (SELECT to_regclass(" + table_literal +
         ") AS oid) SELECT"
         " (SELECT coalesce(string_agg(quote_ident(a.attname) || ' ' ||"
         "   format_type(a.atttypid, a.atttypmod) ||"
         "   CASE WHEN a.attcollation = 0 THEN '' ELSE ' COLLATE ' || "
         "quote_ident(co.collname) END,"
         "   ', ' ORDER BY a.attnum), '')"
         "  FROM pg_attribute a LEFT JOIN pg_collation co ON co.oid = a.attcollation"
         "  WHERE a.attrelid = t.oid AND a.attnum > 0 AND NOT a.attisdropped),"
         " EXISTS (SELECT 1 FROM pg_index i JOIN pg_attribute a"
         "   ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]"
         "  WHERE i.indrelid = t.oid AND i.indisunique AND i.indnkeyatts = 1 AND "
         "a.attname = 'k'),"
         " coalesce(obj_description(t.oid, 'pg_class'), '')"
         " FROM t";
}

std::string index_name(const std::string& table) {
  constexpr std::size_t kMaxIdentifierBytes = 63;
  std::string name = table + "_expires_idx";
  if (name.size() <= kMaxIdentifierBytes) return name;
  char hash[17];
  std::snprintf(hash, sizeof hash, "%016llx",
                static_cast<unsigned long long>(std::hash<std::string>{}(table)));
  std::size_t cut = 30;  // on a character boundary: the name must stay UTF-8
  while (cut > 0 && (static_cast<unsigned char>(table[cut]) & 0xC0) == 0x80) --cut;
  return table.substr(0, cut) + "_" + hash + "_exp";
}

std::vector<std::pair<std::string, std::string>> statements(const std::string& t) {
  const std::string live = "(expires_at IS NULL OR expires_at > now())";
  // $n: a TTL in ms on the server's clock; $m: an absolute time in ms since
  // the Unix epoch. At most one is set; neither gives NULL (permanent). The
  // absolute form is exact: the interval product is 1000 * m microseconds,
  // which a double holds exactly for every system_clock time.
  const auto expiry = [](int n, int m) {
    const std::string ttl = "$" + std::to_string(n);
    const std::string at = "$" + std::to_string(m);
    return "coalesce(now() + " + ttl +
           "::bigint * interval '1 millisecond', timestamptz 'epoch' + " + at +
           "::bigint * interval '1 millisecond')";
  };
  // Expiry goes back as integer microseconds since the epoch (extract gives
  // numeric on PostgreSQL 14 and later: exact).
  const std::string expires_us = "(extract(epoch FROM expires_at) * 1000000)::bigint";
  const std::string replace_all =
      " ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v, expires_at = EXCLUDED.expires_at,"
      " metadata = EXCLUDED.metadata";
  return {
      {kGet, "SELECT v FROM " + t + " WHERE k = $1 AND " + live},
      {kGetEntry, "SELECT v, metadata, " + expires_us + " FROM " + t + " WHERE k = $1 AND " + live},
      {kSet, "INSERT INTO " + t + " AS cur (k, v, expires_at, metadata) VALUES ($1, $2, " +
                 expiry(3, 4) + ", $5)" + replace_all},
      {kRemove, "DELETE FROM " + t + " WHERE k = $1"},
      // Writes only over an expired row; returns no row when a live one exists.
      {kCreate, "INSERT INTO " + t + " AS cur (k, v, expires_at, metadata) VALUES ($1, $2, " +
                    expiry(3, 4) + ", $5)" + replace_all + " WHERE cur.expires_at <= now()"},
      {kReplace, "UPDATE " + t + " SET v = $3, expires_at = " + expiry(4, 5) +
                     ", metadata = $6 WHERE k = $1 AND v = $2 AND " + live},
      {kDeleteIf, "DELETE FROM " + t + " WHERE k = $1 AND v = $2 AND " + live},
      {kAbsent, "SELECT NOT EXISTS (SELECT 1 FROM " + t + " WHERE k = $1 AND " + live + ")"},
      {kList, "SELECT k, v, metadata, " + expires_us + " FROM " + t +
                  " WHERE k >= $1 AND k < $2 AND " + live + " ORDER BY k LIMIT $3"},
      {kListOpen, "SELECT k, v, metadata, " + expires_us + " FROM " + t + " WHERE k >= $1 AND " +
                      live + " ORDER BY k LIMIT $2"},
      // Keys-only listings name no v: a large value stays in its TOAST
      // table, unread, and nothing of it crosses the wire.
      {kListKeys, "SELECT k, metadata, " + expires_us + " FROM " + t +
                      " WHERE k >= $1 AND k < $2 AND " + live + " ORDER BY k LIMIT $3"},
      {kListKeysOpen, "SELECT k, metadata, " + expires_us + " FROM " + t + " WHERE k >= $1 AND " +
                          live + " ORDER BY k LIMIT $2"},
      // The bulk calls: one statement each, so each is atomic and sees one
      // snapshot. Arrays come in PostgreSQL's binary format (ArrayParam).
      {kGetMany, "SELECT k, v FROM " + t + " WHERE k = ANY($1::text[]) AND " + live},
      // Expiry and metadata as in kSet, per row. The driver sends the rows in
      // key order, so concurrent batches lock rows in one order and cannot
      // deadlock each other.
      {kSetMany, "INSERT INTO " + t +
                     " AS cur (k, v, expires_at, metadata) SELECT w.k, w.v,"
                     " coalesce(now() + w.ttl * interval '1 millisecond',"
                     " timestamptz 'epoch' + w.at * interval '1 millisecond'), w.m"
                     " FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[],"
                     " $5::text[]) AS w(k, v, ttl, at, m)" +
                     replace_all},
      {kRemoveMany, "DELETE FROM " + t + " WHERE k = ANY($1::text[])"},
      // The inner SELECT walks the partial expiry index; the outer
      // condition re-checks rows a concurrent write just made live again.
      {kSweep, "DELETE FROM " + t + " WHERE k IN (SELECT k FROM " + t +
                   " WHERE expires_at <= now() ORDER BY expires_at LIMIT $1"
                   " FOR UPDATE SKIP LOCKED) AND expires_at <= now()"},
  };
}

ArrayParam::ArrayParam(std::uint32_t element_oid, std::size_t count, std::size_t payload_bytes) {
  bytes_.reserve(20 + 4 * count + payload_bytes);
  put32(1);            // dimensions
  put32(0);            // flags: no NULLs (array_recv works that out itself)
  put32(element_oid);  // checked by the server against the parameter's type
  put32(static_cast<std::uint32_t>(count));
  put32(1);  // lower bound
}

void ArrayParam::add(std::string_view text) {
  put32(static_cast<std::uint32_t>(text.size()));
  bytes_.append(text);
}

void ArrayParam::add_nullable(const std::optional<std::string>& text) {
  if (!text) {
    put32(0xFFFFFFFFu);  // length -1: NULL
    return;
  }
  add(std::string_view(*text));
}

void ArrayParam::add(std::optional<std::int64_t> number) {
  if (!number) {
    put32(0xFFFFFFFFu);  // length -1: NULL
    return;
  }
  put32(8);
  const auto v = static_cast<std::uint64_t>(*number);
  put32(static_cast<std::uint32_t>(v >> 32));
  put32(static_cast<std::uint32_t>(v));
}

void ArrayParam::put32(std::uint32_t v) {
  const char b[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16),
                     static_cast<char>(v >> 8), static_cast<char>(v)};
  bytes_.append(b, 4);
}

}  // namespace kvstore::postgres::detail
