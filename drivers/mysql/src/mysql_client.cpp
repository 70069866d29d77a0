#include "mysql_client.h"

// Only the <cppconn/...> interface headers: <mysql_driver.h> and
// <mysql_connection.h> pull in Boost. get_driver_instance() is declared in
// <cppconn/driver.h>.
#include <cppconn/connection.h>
#include <cppconn/driver.h>

#include <dlfcn.h>

#include <algorithm>
#include <cstdint>
#include <string>

namespace kvstore::mysql {

namespace {

// get_driver_instance() is not thread-safe on its first call (it fills a
// static map and initialises the C client library), so it runs once here.
// After that, connect() works on a connection of its own and needs no lock:
// a store-wide (or process-wide) lock around it would make every thread wait
// for the handshakes of all threads before it while a server stalls.
struct DriverState {
  sql::Driver* driver;
  // libmysqlclient (Oracle's C client) repeats a timed-out read: a read may
  // block for 3 x OPT_READ_TIMEOUT. libmariadb (what Debian's Connector/C++
  // links) waits once. Only libmariadb exports mariadb_get_infov.
  bool reads_retried;
};

DriverState& driver_state() {
  static DriverState* state =
      new DriverState{get_driver_instance(),
                      ::dlsym(RTLD_DEFAULT, "mariadb_get_infov") == nullptr};  // never destroyed
  return *state;
}

// The C client library wants mysql_thread_init() in every thread that uses
// it and mysql_thread_end() when the thread exits (libmysqlclient leaks
// per-thread state otherwise; libmariadb treats both as no-ops).
struct ThreadRegistration {
  sql::Driver* driver;
  explicit ThreadRegistration(sql::Driver* d) : driver(d) { driver->threadInit(); }
  ~ThreadRegistration() { driver->threadEnd(); }
};

sql::Driver* driver_for_this_thread() {
  sql::Driver* driver = driver_state().driver;
  thread_local ThreadRegistration registration(driver);
  return driver;
}

}  // namespace

int whole_seconds(std::chrono::milliseconds d) {
  return static_cast<int>(std::max<std::int64_t>(1, (d.count() + 999) / 1000));
}

ClientTimeouts client_timeouts(const Options& options) {
  const bool reads_retried = driver_state().reads_retried;
  ClientTimeouts t{};
  t.connect_s = whole_seconds(options.connect_timeout);
  t.connect = std::chrono::seconds(t.connect_s);
  const int io_s = whole_seconds(options.command_timeout);
  // A client that reads up to 3 times gets a third of command_timeout per
  // read (at least the 1 s the option can express) so the total stays near it.
  t.read_s = reads_retried ? std::max(1, io_s / 3) : io_s;
  t.read = std::chrono::seconds(reads_retried ? 3 * t.read_s : t.read_s);
  return t;
}

void register_this_thread() { driver_for_this_thread(); }

std::unique_ptr<sql::Connection> open_connection(const Options& options,
                                                 const ClientTimeouts& timeouts) {
  sql::Driver* driver = driver_for_this_thread();
  sql::ConnectOptionsMap map;
  std::string host = options.host;
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  map["hostName"] = sql::SQLString("tcp://" + host);
  map["port"] = static_cast<int>(options.port);
  map["userName"] = sql::SQLString(options.user);
  map["password"] = sql::SQLString(options.password);
  map["schema"] = sql::SQLString(options.database);
  map["OPT_CHARSET_NAME"] = sql::SQLString("utf8mb4");
  map["OPT_RECONNECT"] = false;      // reconnecting is the pool's, with statements re-prepared
  map["CLIENT_FOUND_ROWS"] = false;  // affected rows = changed rows (see kCreate)
  // libmariadb bounds the TCP connect and the wait for the server's
  // greeting by OPT_CONNECT_TIMEOUT, every later read by OPT_READ_TIMEOUT.
  map["OPT_CONNECT_TIMEOUT"] = timeouts.connect_s;
  map["OPT_READ_TIMEOUT"] = timeouts.read_s;
  map["OPT_WRITE_TIMEOUT"] = timeouts.read_s;
  return std::unique_ptr<sql::Connection>(driver->connect(map));
}

}  // namespace kvstore::mysql
