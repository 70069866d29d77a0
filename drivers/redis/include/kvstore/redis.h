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
//   pool_size=<n>            most connections open at once (default 8, 1..1024)
//   connect_timeout=<dur>    bound on connecting (default 1s; "0" = the OS's)
//   command_timeout=<dur>    bound on each command's reply, and on waiting for
//                            a free pooled connection (default 5s; "0" = none)
//   db=<n>                   database number (redis+unix only; redis:// takes
//                            it from the path, default 0)
// A password alone sends "AUTH password"; user and password send the Redis 6
// ACL form "AUTH user password". The host defaults to 127.0.0.1, the port to
// 6379. TLS (rediss://) and Redis Cluster are not supported.
//
// open() connects once to check the server and the credentials and loads the
// driver's Lua scripts; it throws Error(unavailable) if the server cannot be
// reached within connect_timeout and Error(permission_denied) if AUTH fails.
//
// The store is thread-safe: each call borrows one pooled connection for one
// round trip, so up to pool_size calls run at once. A connection that breaks
// (for example when Redis restarts) is dropped and a new one is opened by the
// next call; idempotent calls are retried once on a fresh connection. TTLs use
// the server's clock. The data layout and the cost of each call are described
// in docs/drivers/redis.md.
#pragma once

#include <memory>

#include <kvstore/store.h>

namespace kvstore {
class Driver;
class Url;
}  // namespace kvstore

namespace kvstore::redis {

// The registry's factory for "redis://" and "redis+unix://" URLs. Takes the
// parameters above from `url` and rejects any other before connecting.
std::unique_ptr<Driver> open(Url& url);

}  // namespace kvstore::redis
