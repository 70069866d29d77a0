// The MySQL driver's use of Connector/C++ and the C client below it: the
// process-wide driver instance, per-thread registration, and the client-side
// timeouts that bound every step when a server stalls.
#pragma once

#include <chrono>
#include <memory>

#include <kvstore/mysql.h>

namespace sql {
class Connection;
}  // namespace sql

namespace kvstore::mysql {

// What the client library is told, and how long each step can block with
// those settings. The client takes timeouts in whole seconds.
struct ClientTimeouts {
  int connect_s;                      // OPT_CONNECT_TIMEOUT: TCP connect and the server's greeting
  int read_s;                         // OPT_READ_TIMEOUT and OPT_WRITE_TIMEOUT
  std::chrono::milliseconds connect;  // longest handshake
  std::chrono::milliseconds read;     // longest single read or write
};

ClientTimeouts client_timeouts(const Options& options);

// `d` rounded up to whole seconds, at least 1.
int whole_seconds(std::chrono::milliseconds d);

// libmariadb reports a read that timed out as the same 2013 "Lost
// connection" as a reset, so the time the step took tells them apart. The
// client's timeouts are whole seconds; a reset comes within milliseconds.
inline bool ran_into(std::chrono::milliseconds took, std::chrono::milliseconds bound) {
  return took + std::chrono::milliseconds(100) >= bound;
}

// Registers the calling thread with the client library (once per thread).
// Every thread that uses a connection calls it first.
void register_this_thread();

// Opens a TCP connection with this driver's client settings; throws
// sql::SQLException. The caller owns the connection.
std::unique_ptr<sql::Connection> open_connection(const Options& options,
                                                 const ClientTimeouts& timeouts);

}  // namespace kvstore::mysql
