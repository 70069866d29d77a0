// The Redis driver: a store in a Redis 6/7 server, reached with hiredis.
//
// URLs:
//   redis://[[user]:password@]host[:port][/db][?param=value&...]
//   redis+unix://[[user]:password@]/path/to/redis.sock[?db=N&param=value&...]
//
// Parameters (all optional):
//   prefix=<text>            namespace of this store's keys (default "kvstore");
//                            stores with different prefixes never see each
//                            other's keys, even in one database
//   db=<n>                   database number (redis+unix only; redis:// takes
//                            it from the path, default 0)
//   pool_size, pool_timeout, connect_timeout, command_timeout
//                            the parameters every server driver shares
//                            (<kvstore/driver/shared_params.h>): 8, 5s, 5s, 10s
//   max_value_size, list_page_size
//                            the parameters every store takes (registry.h)
// A password alone sends "AUTH password"; user and password send the Redis 6
// ACL form "AUTH user password". TLS (rediss://) and Redis Cluster are not
// supported. The data layout, the error table and the cost of each call are
// in docs/drivers/redis.md.
//
// A store connects on its first call, not when it is created or opened:
// KvStore::ping() connects, authenticates and loads the driver's scripts, so
// a program can check the server at start.
//
// The store is thread-safe: each call borrows one pooled connection for one
// round trip, so up to pool_size calls run at once. A connection that breaks
// (for example when Redis restarts) is dropped and the next call opens a new
// one; reads, sets and removes are retried once on a fresh connection, a cas
// only if its request never left. TTLs use the server's clock.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <kvstore/store.h>

namespace kvstore {
class Driver;
class Url;
}  // namespace kvstore

namespace kvstore::redis {

// Every setting of a Redis store, typed. The defaults are those of a URL
// without parameters. Strings are plain text (no percent-encoding).
struct Options {
  // Where the server is: host and port, or a Unix socket when socket_path is
  // not empty (then host and port are ignored).
  std::string host = "127.0.0.1";
  std::uint16_t port = 6379;
  std::string socket_path;
  std::int64_t db = 0;  // 0..1000000; sent as SELECT when not 0

  // Credentials: no password sends no AUTH; a user needs a password.
  std::string user;
  std::optional<std::string> password;

  // Namespace of the store's Redis keys, at most 1024 bytes.
  std::string prefix = "kvstore";

  // The shared connection parameters, with their shared ranges.
  std::size_t pool_size = 8;                         // 1..1024
  std::chrono::milliseconds pool_timeout{5000};      // 1ms..1h: wait for a free connection
  std::chrono::milliseconds connect_timeout{5000};   // 1ms..1h: each connect
  std::chrono::milliseconds command_timeout{10000};  // 1ms..1h: each reply

  // What every store takes (max_value_size, list_page_size).
  StoreSettings store;

  // The options a URL gives, exactly as open() reads it. Throws
  // Error(invalid_argument) for a malformed URL, a bad or unknown parameter.
  static Options from_url(std::string_view url);
};

// A store with these options. Does no I/O: the store connects on its first
// call or ping(). Throws Error(invalid_argument) for an option out of range.
// The caller owns the store; it may outlive `options`.
std::unique_ptr<KvStore> create(const Options& options);

// The registry's factory for "redis://" and "redis+unix://" URLs: takes the
// parameters above from `url` (the registry rejects any other) and builds the
// driver without any I/O.
std::unique_ptr<Driver> open(Url& url);

}  // namespace kvstore::redis
