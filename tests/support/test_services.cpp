#include "test_services.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <utility>

#include <catch2/catch.hpp>

namespace test_support {

namespace {
// KVSTORE_TEST_SERVICES is "<script> <dir>"; neither part holds a space.
std::pair<std::string, std::string> script_and_dir() {
  const char* value = std::getenv("KVSTORE_TEST_SERVICES");
  if (value == nullptr || *value == '\0') {
    FAIL("KVSTORE_TEST_SERVICES is not set: start the servers with scripts/test-services.sh");
  }
  const std::string text = value;
  const std::size_t space = text.rfind(' ');
  REQUIRE(space != std::string::npos);
  return {text.substr(0, space), text.substr(space + 1)};
}
}  // namespace

void service_control(const std::string& action, const std::string& service) {
  auto [script, dir] = script_and_dir();
  const std::string command =
      script + " " + action + " " + dir + " " + service + " > /dev/null 2>&1";
  INFO(command);
  REQUIRE(std::system(command.c_str()) == 0);
}

std::string services_dir() { return script_and_dir().second; }

LoopbackListener::LoopbackListener(int backlog) {
  fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd_ >= 0);
  address_.sin_family = AF_INET;
  address_.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  try {
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&address_), sizeof address_) == 0);
    REQUIRE(::listen(fd_, backlog) == 0);
    socklen_t size = sizeof address_;
    REQUIRE(::getsockname(fd_, reinterpret_cast<sockaddr*>(&address_), &size) == 0);
  } catch (...) {
    close();  // a failed REQUIRE throws: the destructor would not run
    throw;
  }
}

LoopbackListener::LoopbackListener(LoopbackListener&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), address_(other.address_) {}

LoopbackListener::~LoopbackListener() { close(); }

void LoopbackListener::close() noexcept {
  if (fd_ >= 0) ::close(std::exchange(fd_, -1));
}

LoopbackListener listen_on_loopback(int backlog) { return LoopbackListener(backlog); }

int unused_loopback_port() {
  // Listened on, then closed: a port that took no connection has no
  // TIME_WAIT, so it is free again at once and nothing else holds it.
  return listen_on_loopback(1).port();
}

}  // namespace test_support
