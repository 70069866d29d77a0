// The PostgreSQL driver: a store in one table of a PostgreSQL (>= 12) database.
//
// URL: libpq's own URI form, with kvstore's parameters added to the query:
//
//   postgres://[user[:password]@][host][:port][/dbname][?param=value&...]
//   postgresql://...                      (the same)
//
// kvstore parameters (durations take a unit: "500ms", "5s"):
//   table=NAME              table holding the entries; "schema.table" allowed
//                           (the schema must exist). Default "kvstore".
//   pool_size=N             connections kept open at most (1..1024). Default 8.
//   connect_timeout=D       time allowed to connect (1ms..1h), exact to the
//                           millisecond across all addresses; a bare number
//                           means seconds, as in libpq. Default 10s.
//   command_timeout=D       client-side limit on a call's statements (1ms..1h),
//                           whatever the server does; then Error(timeout) and
//                           the connection is closed. Default 10s.
//   statement_timeout=D     server-side limit per statement (0..1h); "0"
//                           disables. Default 30s.
//   pool_timeout=D          how long a call waits for a free pooled
//                           connection (1ms..1h) before failing with timeout.
//                           Default 10s.
//   sweep_interval=D        how often a write also deletes a batch of expired
//                           rows (0..1h); "0" disables the sweep. Default 1s.
//   sweep_batch=N           rows deleted per sweep (1..100000). Default 500.
// Every other libpq connection keyword (sslmode, application_name,
// keepalives, options, host=/unix/socket/dir, ...) passes through to libpq;
// anything that is neither is rejected before any I/O. client_encoding, if
// given, must be UTF8.
//
// The table and its expiry index are created on first use (idempotent and
// safe when several processes start at once); open() itself does no I/O, so
// a server that is down surfaces as Error(unavailable) from the first call.
// TTLs run on the server's clock. See docs/drivers/postgres.md for the
// schema and how each promise of the contract is kept.
//
// Deadlines: once it has a pooled connection or slot, every call ends within
// about connect_timeout + command_timeout, with Error(timeout) or
// Error(unavailable) if the server does not answer; a per-store watchdog
// thread cuts statements that overrun. A write cut that way is not retried.
//
// Thread safety: the returned store is shared by all threads; each call
// borrows one pooled connection for its duration. A connection broken by a
// server restart is replaced on the next call.
#pragma once

#include <memory>

#include <kvstore/store.h>

namespace kvstore {
class Driver;
class Url;
}  // namespace kvstore

namespace kvstore::postgres {

// The registry's factory for "postgres://" and "postgresql://" URLs. Takes
// every parameter it understands (and libpq's) from `url`; throws
// Error(invalid_argument) for a malformed URL or an unknown parameter.
std::unique_ptr<Driver> open(Url& url);

}  // namespace kvstore::postgres
