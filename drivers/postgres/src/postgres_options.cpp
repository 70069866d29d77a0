#include "postgres_options.h"

#include <libpq-fe.h>

#include <algorithm>
#include <cctype>
#include <functional>
#include <set>

#include <kvstore/error.h>
#include <kvstore/key.h>

namespace kvstore::postgres::detail {

namespace {

using namespace std::chrono_literals;

constexpr const char* kDriver = "postgres";
constexpr std::size_t kMaxIdentifierBytes = 63;  // NAMEDATALEN - 1: longer names are truncated

[[noreturn]] void bad_option(const std::string& message) {
  throw Error(ErrorCode::invalid_argument, message, kDriver, false);
}

const std::set<std::string, std::less<>>& libpq_keywords() {
  static const std::set<std::string, std::less<>> keywords = [] {
    std::set<std::string, std::less<>> names;
    PQconninfoOption* options = PQconndefaults();
    if (options != nullptr) {
      for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) names.emplace(o->keyword);
      PQconninfoFree(options);
    }
    return names;
  }();
  return keywords;
}

void append_conninfo(std::string& out, std::string_view key, std::string_view value) {
  if (!out.empty()) out += ' ';
  out += key;
  out += "='";
  for (char c : value) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  out += '\'';
}

// libpq's connect_timeout is whole seconds; ours also takes a unit. Either
// way it must lie in 1ms..1h like every other duration: "0" (libpq's "wait
// forever") would let a call hang.
std::chrono::milliseconds parse_connect_timeout(const std::string& text) {
  if (text.empty() || !std::all_of(text.begin(), text.end(),
                                   [](unsigned char c) { return std::isalnum(c) != 0; })) {
    bad_option(
        "connect_timeout must be a duration from 1ms to 1h, e.g. 500ms or 5s"
        " (a bare number is seconds)");
  }
  const bool seconds =
      std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c) != 0; });
  Url scratch = Url::parse("postgres:?connect_timeout=" + text + (seconds ? "s" : ""));
  return *scratch.take_duration("connect_timeout", 1ms, 1h);
}

// PostgreSQL identifiers are UTF-8 text of at most NAMEDATALEN - 1 bytes (it
// would silently truncate longer ones): anything else can only fail on the
// server, so it is rejected before any I/O.
void check_identifier(const std::string& part) {
  if (part.empty() || part.size() > kMaxIdentifierBytes || part.find('\0') != std::string::npos ||
      !is_valid_utf8(part)) {
    bad_option("table must be NAME or SCHEMA.NAME, each 1 to 63 bytes of UTF-8 without NUL");
  }
}

}  // namespace

Options take_options(Url& url) {
  return naming_errors(kDriver, [&] {
    if (!url.has_authority()) {
      bad_option("PostgreSQL URLs look like postgres://user@host:port/dbname");
    }
    Options o;
    o.host = url.host();
    o.port = url.port();
    o.user = url.user();
    o.password = url.password().value_or("");
    if (url.path().size() > 1) o.dbname = url.path().substr(1);
    if (auto v = url.take("table")) o.table = *v;
    // Taken before the shared parameters: bare digits are seconds here.
    const std::optional<std::string> connect_timeout = url.take("connect_timeout");
    o.connection = take_connection_options(url);
    if (connect_timeout) o.connection.connect_timeout = parse_connect_timeout(*connect_timeout);
    o.sweep = take_sweep_options(url);
    if (auto v = url.take_duration("statement_timeout", 0ms, 1h)) o.statement_timeout = *v;
    // Copy: taking parameters changes remaining_params().
    const auto params = url.remaining_params();
    for (const auto& [name, value] : params) {
      if (libpq_keywords().count(name) == 0) continue;  // left for reject_unknown_params
      url.take(name);
      o.libpq.emplace_back(name, value);
    }
    return o;
  });
}

Settings settings_for(const Options& o) {
  Settings s;
  const std::size_t dot = o.table.find('.');
  if (dot == std::string::npos) {
    s.table = o.table;
  } else {
    s.schema = o.table.substr(0, dot);
    s.table = o.table.substr(dot + 1);
    check_identifier(s.schema);
    if (s.table.find('.') != std::string::npos) bad_option("table must be NAME or SCHEMA.NAME");
  }
  check_identifier(s.table);
  validate(kDriver, o.connection);
  validate(kDriver, o.sweep);
  check_param_range(kDriver, "statement_timeout", o.statement_timeout, 0ms, kLongestTimeout);
  s.connection = o.connection;
  s.sweep = o.sweep;
  s.statement_timeout = o.statement_timeout;

  for (const std::string* field : {&o.host, &o.user, &o.password, &o.dbname}) {
    if (field->find('\0') != std::string::npos) bad_option("connection fields must not hold NUL");
  }
  std::string& ci = s.conninfo;
  if (!o.host.empty()) append_conninfo(ci, "host", o.host);
  if (o.port) append_conninfo(ci, "port", std::to_string(*o.port));
  if (!o.user.empty()) append_conninfo(ci, "user", o.user);
  if (!o.password.empty()) append_conninfo(ci, "password", o.password);
  if (!o.dbname.empty()) append_conninfo(ci, "dbname", o.dbname);
  append_conninfo(ci, "application_name", "kvstore");
  for (const auto& [name, value] : o.libpq) {
    if (libpq_keywords().count(name) == 0) bad_option(name + " is not a libpq connection keyword");
    if (name == "connect_timeout") bad_option("connect_timeout is Options::connection's");
    if (value.find('\0') != std::string::npos) bad_option(name + " must not contain a NUL byte");
    if (name == "client_encoding") {
      std::string upper;
      for (char c : value) upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      if (upper != "UTF8" && upper != "UTF-8") bad_option("client_encoding must be UTF8");
    }
    append_conninfo(ci, name, value);  // later keywords override earlier ones
  }
  // No libpq connect_timeout: the driver connects with PQconnectPoll against
  // its own deadline, exact to the millisecond and across all addresses.
  append_conninfo(ci, "client_encoding", "UTF8");

  s.target = "postgres://" + (o.user.empty() ? std::string() : o.user + "@") + o.host +
             (o.port ? ":" + std::to_string(*o.port) : std::string()) + "/" + o.dbname;
  return s;
}

}  // namespace kvstore::postgres::detail

namespace kvstore::postgres {

Options Options::from_url(std::string_view text) {
  return naming_errors(detail::kDriver, [&] {
    Url url = Url::parse(text);
    if (url.scheme() != "postgres" && url.scheme() != "postgresql") {
      detail::bad_option("a PostgreSQL URL starts with postgres:// or postgresql://");
    }
    // What every store takes, as the registry reads it (registry.cpp).
    StoreSettings store = take_store_settings(url);
    Options o = detail::take_options(url);
    o.store = store;
    url.reject_unknown_params("postgres");
    return o;
  });
}

}  // namespace kvstore::postgres
