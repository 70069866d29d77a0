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
//   table=kvstore         table name: 1-64 of [A-Za-z0-9_]; an existing table
//                         must have kvstore's columns (checked on first use)
//   pool_size=8           most connections open at once (1-1024)
//   pool_timeout=10s      how long a call waits for a free pooled connection
//   connect_timeout=5s    TCP connect + server greeting (whole seconds, rounded up)
//   io_timeout=30s        reading or writing one result (whole seconds, rounded up)
//   lock_timeout=10s      InnoDB lock wait per statement (whole seconds, rounded up)
//   sweep_interval=1s     how often a write also deletes expired rows; 0 disables (0-1h)
//   sweep_batch=500       rows deleted per sweep statement (1-100000)
// plus the core's max_value_size and list_page_size. docs/drivers/mysql.md
// describes the schema and how each promise of the KvStore contract is met.
//
// Thread safety: the store is shared by all threads; each call borrows one
// pooled connection (with its prepared statements) for its duration.
// TTLs are measured on the server's clock, in milliseconds.
//
// Failures: a server that refuses connections gives Error(unavailable); one
// that does not answer gives Error(timeout): a call is bounded by
// connect_timeout + io_timeout (plus pool_timeout when the pool is full),
// whatever the number of threads. A read whose connection broke (e.g. the
// server restarted) is repeated on a new connection; a write (set, remove,
// cas) that may already have reached the server is not: it throws
// Error(unavailable or timeout) saying its outcome is unknown. Idle
// connections are pinged before a write, so a restart between calls is not
// such a case.
//
// No Connector/C++ or MySQL client header is included here.
#pragma once

#include <memory>

#include <kvstore/store.h>

namespace kvstore {
class Driver;
class Url;
}  // namespace kvstore

namespace kvstore::mysql {

// The registry's factory for "mysql://" and "mariadb://" URLs. Takes the
// parameters above from `url` and rejects unknown ones before any I/O; no
// connection is opened until the first call on the store.
std::unique_ptr<Driver> open(Url& url);

}  // namespace kvstore::mysql
