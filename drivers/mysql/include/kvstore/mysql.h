// The MySQL / MariaDB driver: one InnoDB table on a MariaDB 10.11 or MySQL 8
// server, reached through MySQL Connector/C++ 1.1.
//
// URL:
//   mysql://[user[:password]@]host[:port]/database[?param=value&...]
//   mariadb://...                        (the same driver)
//
// The database must exist; the table is created on first use (CREATE TABLE
// IF NOT EXISTS, safe when several processes start at once). Host defaults
// to 127.0.0.1 and port to 3306; the database name must be valid UTF-8.
// Parameters (durations take a unit: 500ms, 5s; 1ms-1h unless noted):
//   shared by every server driver (same names, ranges and defaults):
//   pool_size=8           most connections open at once (1-1024)
//   pool_timeout=5s       how long a call waits for a free pooled connection
//   connect_timeout=5s    TCP connect + server greeting (whole seconds, rounded up)
//   command_timeout=10s   reading or writing one result (whole seconds, rounded up);
//                         io_timeout is a deprecated alias (not both)
//   sweep_interval=1s     how often a write also deletes expired rows; 0 disables (0-1h)
//   sweep_batch=500       rows deleted per sweep statement (1-100000)
//   this driver's own:
//   table=kvstore         table name: 1-64 of [A-Za-z0-9_]; an existing table
//                         must have kvstore's columns (checked on first use)
//   lock_timeout=5s       InnoDB lock wait per statement (whole seconds, rounded up);
//                         below command_timeout, so that a lock wait ends first
// plus the core's max_value_size and list_page_size. docs/drivers/mysql.md
// describes the schema, the error table and how each promise of the KvStore
// contract is met.
//
// Thread safety: a store is shared by all threads; each call borrows one
// pooled connection (with its prepared statements) for its duration.
// TTLs are measured on the server's clock, in milliseconds.
//
// Failures: a server that refuses connections gives Error(unavailable); one
// that does not answer gives Error(timeout). Error::native_code() is the
// MySQL error number in decimal ("1045", "1213"). A read, set or remove whose
// connection broke is repeated once on a new connection; a cas that may
// already have reached the server is not: its Error has outcome_unknown().
//
// No Connector/C++ or MySQL client header is included here.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <kvstore/store.h>

namespace kvstore {
class Driver;
class Url;
}  // namespace kvstore

namespace kvstore::mysql {

// Everything a mysql:// URL can say, as typed fields. Strings are plain
// (no percent-encoding). A plain value type: copy it freely.
struct Options {
  std::string host = "127.0.0.1";  // a name or an address; IPv6 without brackets
  std::uint16_t port = 3306;
  std::string user;
  std::string password;  // never appears in an error message
  std::string database;  // required; must exist; valid UTF-8 without NUL or '/'
  std::string table = "kvstore";

  // Shared by every server driver.
  std::size_t pool_size = 8;                         // 1..1024
  std::chrono::milliseconds pool_timeout{5000};      // 1ms..1h
  std::chrono::milliseconds connect_timeout{5000};   // 1ms..1h
  std::chrono::milliseconds command_timeout{10000};  // 1ms..1h
  std::chrono::milliseconds sweep_interval{1000};    // 0..1h; 0 turns sweeping off
  std::size_t sweep_batch = 500;                     // 1..100000

  std::chrono::milliseconds lock_timeout{5000};  // 1ms..1h; keep it below command_timeout

  // The core's settings (max_value_size, list_page_size).
  StoreSettings store;

  // Parses a mysql:// or mariadb:// URL, core parameters included. Throws
  // Error(invalid_argument), naming the driver, exactly where open() would.
  static Options from_url(std::string_view url);
};

// A store on `options`. Does no I/O: the store connects on its first call
// (KvStore::ping() checks the server at start). Throws
// Error(invalid_argument) for options out of range. The caller owns the
// store; `options` is copied and need not outlive the call.
std::unique_ptr<KvStore> create(const Options& options);

// The registry's factory for "mysql://" and "mariadb://" URLs: parses the
// Options from `url` (taking its parameters and rejecting unknown ones)
// and builds the driver, before any I/O.
std::unique_ptr<Driver> open(Url& url);

}  // namespace kvstore::mysql
