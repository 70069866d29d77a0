// The SQLite driver: an embedded store in a database file or in memory.
//
// URLs (see docs/drivers/sqlite.md):
//   sqlite:data/kv.db          a file, relative to the working directory at open()
//   sqlite:/var/lib/kv.db      an absolute path; sqlite:///var/lib/kv.db is the same
//   sqlite::memory:            a private in-memory database, gone with the store
// Query parameters (all optional). The shared ones have the same names,
// ranges and defaults in every driver (docs/drivers/sqlite.md):
//   pool_size=8                most connections (concurrent callers) per store,
//                              1 to 1024; an in-memory database always has one
//   pool_timeout=5s            how long a caller waits for a free connection
//                              before failing with ErrorCode::timeout (1ms to 1h)
//   connect_timeout=5s         bounds opening a connection: its lock waits while
//                              configuring the file and creating the schema (1ms to 1h)
//   command_timeout=10s        bounds one call: lock waits and running statements
//                              stop with ErrorCode::timeout after it (1ms to 1h)
//   sweep_interval=1s          how often a write also deletes expired rows; 0: never
//                              (0 to 1h)
//   sweep_batch=500            most expired rows one sweep deletes (1 to 100000)
// This driver's own:
//   table=kvstore              table holding the entries: [A-Za-z_][A-Za-z0-9_]*, at
//                              most 64 bytes, not starting with "sqlite_"
//   busy_timeout=5s            how long a statement waits for another process's lock
//                              before failing with ErrorCode::timeout (0 to 1h; a call
//                              waits at most command_timeout in all)
//   journal_mode=wal           wal, delete, truncate or persist (files only)
//   synchronous=normal         off, normal, full or extra (files only); the default
//                              is normal with WAL and full otherwise
//   mmap_size=0                bytes of the file each connection reads through
//                              mmap (e.g. 256MiB); 0 reads with pread() (files only)
//
// The file and directory of a file URL must be writable. The file, its table
// and index are created on first open, also when several processes open a
// new file at once. Other processes may open the same file: they see the
// same data and cas() is atomic across all of them. TTLs use this machine's
// wall clock (unix epoch milliseconds), so they survive reopening the file.
//
// Ownership: the caller owns the returned store; destroying it closes its
// connections and must not race with calls still in progress. Data in a file
// outlives the store; an in-memory database does not.
//
// Thread safety: a store is shared by all threads. Each call borrows one
// connection from the store's pool for its duration; readers run in parallel
// (WAL), writers of one file in this process queue on one mutex, and writers
// in other processes wait up to busy_timeout.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <kvstore/store.h>

namespace kvstore {
class Driver;
class Url;
}  // namespace kvstore

namespace kvstore::sqlite {

// The special path that selects a private in-memory database.
inline constexpr const char* kMemoryPath = ":memory:";

// Every parameter of a sqlite URL as a typed field; the defaults are the
// URL's. A plain value type: copy it freely.
struct Options {
  std::string path;  // a file path as the OS takes it (no percent-encoding), or kMemoryPath
  std::string table = "kvstore";
  std::chrono::milliseconds busy_timeout{5000};  // 0 to 1h
  std::optional<std::string> journal_mode;       // files only; std::nullopt: "wal"
  std::optional<std::string> synchronous;        // files only; std::nullopt: see above
  std::size_t mmap_size = 0;  // files only: PRAGMA mmap_size; 0 reads with pread()

  // The parameters every driver shares, with their ranges.
  std::size_t pool_size = 8;                         // 1 to 1024
  std::chrono::milliseconds pool_timeout{5000};      // 1ms to 1h: wait for a free connection
  std::chrono::milliseconds connect_timeout{5000};   // 1ms to 1h
  std::chrono::milliseconds command_timeout{10000};  // 1ms to 1h
  std::chrono::milliseconds sweep_interval{1000};    // 0 to 1h; zero: never sweep
  std::size_t sweep_batch = 500;                     // 1 to 100000

  // What every store takes (max_value_size, list_page_size), applied by create().
  StoreSettings store;

  // The Options a "sqlite:" URL describes. Throws Error(invalid_argument)
  // for anything open() would reject: another scheme, a host, an unknown
  // parameter, a value out of range. Does no I/O.
  static Options from_url(std::string_view url);
};

// The store `options` describe. Bad options (a path containing NUL, a
// value out of its range above) throw Error(invalid_argument) here. Does no
// I/O: the database file is opened (and created if needed) by the first
// call, which throws Error: unavailable for a path in a missing directory,
// permission_denied for a read-only file or directory, corrupt for a file
// that is not a SQLite database, invalid_argument for a table that is not a
// kvstore table. KvStore::ping() opens it at once.
// The caller owns the store; it keeps no reference to `options`.
std::unique_ptr<KvStore> create(const Options& options);

// The registry's factory for "sqlite:" URLs: Options from `url` (taking the
// parameters above), then the driver, without opening the database.
std::unique_ptr<Driver> open(Url& url);

}  // namespace kvstore::sqlite
