// Helpers for driver tests that run against the servers of
// scripts/test-services.sh.
#pragma once

#include <netinet/in.h>

#include <string>

namespace test_support {

// Runs `scripts/test-services.sh <action> <dir> <service>` ("restart", "stop",
// "start") on the server the test run started; KVSTORE_TEST_SERVICES holds
// "<script> <dir>". Fails the test if the variable is unset or the script fails.
void service_control(const std::string& action, const std::string& service);

// The directory the test servers keep their data and sockets in.
std::string services_dir();

// A TCP socket listening on 127.0.0.1 at a port the kernel picked, that
// never accepts: connects complete from its backlog (up to `backlog`) and
// then get no answer. Closed when destroyed or by close(). Move-only; used
// by one thread.
class LoopbackListener {
 public:
  explicit LoopbackListener(int backlog);
  LoopbackListener(LoopbackListener&& other) noexcept;
  LoopbackListener& operator=(LoopbackListener&&) = delete;
  LoopbackListener(const LoopbackListener&) = delete;
  ~LoopbackListener();

  int port() const noexcept { return ntohs(address_.sin_port); }
  // Where to connect(2) to.
  const sockaddr_in& address() const noexcept { return address_; }
  void close() noexcept;

 private:
  int fd_ = -1;
  sockaddr_in address_{};
};

// Fails the test if no socket can be bound.
LoopbackListener listen_on_loopback(int backlog);

// A TCP port on 127.0.0.1 that nothing listens on (bound, then released).
int unused_loopback_port();

}  // namespace test_support
