// The PostgreSQL driver: a store in one table of a PostgreSQL (>= 12) database.
//
// URL: libpq's own URI form, with kvstore's parameters added to the query:
//
//   postgres://[user[:password]@][host][:port][/dbname][?param=value&...]
//   postgresql://...                      (the same)
//
// Parameters every server driver shares, with the same names, ranges and
// defaults in each (durations take a unit: "500ms", "5s"):
//   pool_size=N             connections kept open at most (1..1024). Default 8.
//   pool_timeout=D          how long a call waits for a free pooled connection
//                           (1ms..1h) before failing with timeout. Default 5s.
//   connect_timeout=D       time allowed to connect (1ms..1h), exact to the
//                           millisecond across all addresses; a bare number
//                           means seconds, as in libpq. Default 5s.
//   command_timeout=D       client-side limit on a call's statements (1ms..1h),
//                           whatever the server does; then Error(timeout) and
//                           the connection is closed. Default 10s.
//   sweep_interval=D        how often a write also deletes a batch of expired
//                           rows (0..1h); "0" disables the sweep. Default 1s.
//   sweep_batch=N           rows deleted per sweep (1..100000). Default 500.
// This driver's own:
//   table=NAME              table holding the entries; "schema.table" allowed
//                           (the schema must exist). Default "kvstore".
//   statement_timeout=D     server-side limit per statement (0..1h); "0"
//                           disables. Default 30s.
// Every other libpq connection keyword (sslmode, application_name,
// keepalives, options, host=/unix/socket/dir, ...) passes through to libpq;
// anything that is neither is rejected before any I/O. client_encoding, if
// given, must be UTF8.
//
// The table and its expiry index are created on first use (idempotent and
// safe when several processes start at once); neither open() nor create()
// does any I/O, so a server that is down surfaces as Error(unavailable) from
// the first call (KvStore::ping() checks at once). TTLs run on the server's
// clock. See docs/drivers/postgres.md for the schema, the error table and
// how each promise of the contract is kept.
//
// Deadlines: once it has a pooled connection or slot, every call ends within
// about connect_timeout + command_timeout, with Error(timeout) or
// Error(unavailable) if the server does not answer; a per-store watchdog
// thread cuts statements that overrun. A cas cut that way is not retried and
// reports Error::outcome_unknown().
//
// Thread safety: a store is shared by all threads; each call borrows one
// pooled connection for its duration. A connection broken by a server
// restart is replaced on the next call.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <kvstore/driver/shared_params.h>
#include <kvstore/store.h>

namespace kvstore {
class Driver;
class Url;
}  // namespace kvstore

namespace kvstore::postgres {

// Every parameter of a PostgreSQL store as a typed field. A plain value:
// copy it freely; a store keeps its own copy.
struct Options {
  std::string host;                   // name, address or Unix socket directory; "": libpq's default
  std::optional<std::uint16_t> port;  // std::nullopt: libpq's default (5432)
  std::string user;                   // "": libpq's default (the OS user)
  std::string password;               // as typed, not percent-encoded; never shown in messages
  std::string dbname;                 // "": libpq's default (the user name)
  std::string table = "kvstore";      // NAME or SCHEMA.NAME, each 1..63 bytes of UTF-8

  ConnectionOptions connection;  // pool_size, pool_timeout, connect_timeout, command_timeout
  SweepOptions sweep;            // sweep_interval, sweep_batch
  std::chrono::milliseconds statement_timeout{30000};  // 0..1h; 0 disables

  // Other libpq connection keywords, passed through in order (a later one
  // overrides an earlier one), e.g. {"sslmode", "require"}.
  std::vector<std::pair<std::string, std::string>> libpq;

  // What every store takes (max_value_size, list_page_size), applied by create().
  StoreSettings store;

  // The options a "postgres://" or "postgresql://" URL names. Throws
  // Error(invalid_argument) for a malformed URL, an unknown parameter or a
  // value out of range, as open() would. No I/O.
  static Options from_url(std::string_view url);
};

// A store on `options`. Throws Error(invalid_argument) for an option out of
// range. Does no I/O: the store connects on its first call (or ping()). The
// caller owns the store; it does not refer to `options` afterwards.
std::unique_ptr<KvStore> create(const Options& options);

// The registry's factory for "postgres://" and "postgresql://" URLs: takes
// every parameter it understands (and libpq's) from `url`, then builds the
// driver as create() does. Throws Error(invalid_argument) like from_url().
std::unique_ptr<Driver> open(Url& url);

}  // namespace kvstore::postgres
