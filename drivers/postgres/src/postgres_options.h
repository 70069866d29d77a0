// URL <-> Options, and Options checked and turned into what the store needs.
#pragma once

#include <chrono>
#include <string>

#include <kvstore/postgres.h>
#include <kvstore/url.h>

namespace kvstore::postgres::detail {

// Options after every check, in the form the store uses.
struct Settings {
  std::string conninfo;  // libpq keyword/value string, password included: never shown
  std::string target;    // postgres://user@host:port/dbname, for messages: no password
  std::string schema;    // empty: the search_path decides
  std::string table;
  ConnectionOptions connection;
  SweepOptions sweep;
  std::chrono::milliseconds statement_timeout{30000};
};

// Takes every parameter the driver understands from `url` (the caller
// rejects the rest). Throws Error(invalid_argument) naming the driver.
Options take_options(Url& url);

// Checks `options` (ranges, table name, libpq keywords) and builds the
// connection string. Throws Error(invalid_argument) naming the driver.
Settings settings_for(const Options& options);

}  // namespace kvstore::postgres::detail
