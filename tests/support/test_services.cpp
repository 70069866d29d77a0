#include "test_services.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>

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
  const std::string command = script + " " + action + " " + dir + " " + service + " > /dev/null 2>&1";
  INFO(command);
  REQUIRE(std::system(command.c_str()) == 0);
}

std::string services_dir() { return script_and_dir().second; }

int unused_loopback_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  socklen_t size = sizeof address;
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) == 0);
  ::close(fd);
  return ntohs(address.sin_port);
}

}  // namespace test_support
