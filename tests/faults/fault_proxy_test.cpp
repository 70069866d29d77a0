// The fault proxy itself, against the test Redis server: a PING through
// each mode behaves as that mode says.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>

#include <kvstore/kvstore.h>
#include <catch2/catch.hpp>

#include "fault_proxy.h"

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using test_support::FaultProxy;

namespace {

std::string redis_url() {
  const char* url = std::getenv("KVSTORE_TEST_REDIS_URL");
  if (url == nullptr || *url == '\0') FAIL("KVSTORE_TEST_REDIS_URL is not set");
  return url;
}

int redis_port() {
  const std::string url = redis_url();
  const std::size_t at = url.find("@127.0.0.1:");
  REQUIRE(at != std::string::npos);
  return std::stoi(url.substr(at + 11));
}

// A raw client connection to the proxy (RESP by hand).
class Client {
 public:
  explicit Client(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd_ >= 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    REQUIRE(::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  }
  ~Client() { ::close(fd_); }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  void send(const std::string& bytes) {
    REQUIRE(::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
            static_cast<ssize_t>(bytes.size()));
  }
  // Reads until `size` bytes arrived, the peer closed or reset (errno_ set),
  // or `wait` passed.
  std::string read(std::size_t size, std::chrono::milliseconds wait) {
    std::string got;
    const auto deadline = Clock::now() + wait;
    while (got.size() < size) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (left <= 0ms) break;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
      char buffer[4096];
      const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
      if (n <= 0) {
        closed = true;
        error = n < 0 ? errno : 0;
        break;
      }
      ++reads;
      got.append(buffer, static_cast<std::size_t>(n));
    }
    return got;
  }
  bool closed = false;
  int error = 0;
  int reads = 0;

 private:
  int fd_ = -1;
};

// AUTH with the test user, then PING: "+OK\r\n+PONG\r\n".
const std::string kPing = "AUTH kvstore kvstore\r\nPING\r\n";
const std::string kPong = "+OK\r\n+PONG\r\n";

}  // namespace

TEST_CASE("fault proxy: pass forwards both ways", "[proxy]") {
  FaultProxy proxy(redis_port());
  Client c(proxy.port());
  c.send(kPing);
  CHECK(c.read(kPong.size(), 2s) == kPong);
  CHECK(proxy.accepted() == 1);
}

TEST_CASE("fault proxy: delay holds each direction", "[proxy]") {
  FaultProxy proxy(redis_port());
  proxy.delay(150ms);
  Client c(proxy.port());
  const auto start = Clock::now();
  c.send(kPing);
  CHECK(c.read(kPong.size(), 3s) == kPong);
  const auto took = Clock::now() - start;
  CHECK(took >= 300ms);  // 150 ms there and 150 ms back
  CHECK(took < 2s);
}

TEST_CASE("fault proxy: throttle limits bytes per second", "[proxy]") {
  FaultProxy proxy(redis_port());
  proxy.throttle(20000);
  Client c(proxy.port());
  const std::string payload(10000, 'x');
  const std::string reply = "+OK\r\n$10000\r\n" + payload + "\r\n";
  const auto start = Clock::now();
  c.send("AUTH kvstore kvstore\r\nECHO " + payload + "\r\n");
  CHECK(c.read(reply.size(), 5s) == reply);
  const auto took = Clock::now() - start;
  // ~10 kB each way at 20 kB/s: about one second in all.
  CHECK(took >= 800ms);
  CHECK(took < 4s);
}

TEST_CASE("fault proxy: split sends replies one byte per write", "[proxy]") {
  FaultProxy proxy(redis_port());
  proxy.split();
  Client c(proxy.port());
  c.send(kPing);
  CHECK(c.read(kPong.size(), 2s) == kPong);
  // The proxy counts a write once send() returns, which may be after the
  // client has read the byte.
  const auto deadline = Clock::now() + 1s;
  while (proxy.client_writes() < kPong.size() && Clock::now() < deadline) {
    std::this_thread::sleep_for(1ms);
  }
  CHECK(proxy.client_writes() == kPong.size());
  // A real client parses the reply from single bytes too.
  auto store = kvstore::open(redis_url().replace(redis_url().find("@127.0.0.1:") + 11,
                                                 std::to_string(redis_port()).size(),
                                                 std::to_string(proxy.port())) +
                             "?prefix=kvproxy_split_" + std::to_string(::getpid()));
  store->set({"k"}, kvstore::Value{{"a", "split reply"}});
  CHECK(store->get({"k"}) == kvstore::Value{{"a", "split reply"}});
  store->remove({"k"});
}

TEST_CASE("fault proxy: blackhole swallows traffic silently", "[proxy]") {
  FaultProxy proxy(redis_port());
  Client before(proxy.port());
  before.send(kPing);
  REQUIRE(before.read(kPong.size(), 2s) == kPong);
  proxy.blackhole();
  before.send("PING\r\n");
  CHECK(before.read(1, 400ms).empty());
  CHECK_FALSE(before.closed);
  Client during(proxy.port());  // accepted, never answered
  during.send(kPing);
  CHECK(during.read(1, 400ms).empty());
  CHECK_FALSE(during.closed);
  proxy.pass();
  // Streams that lost bytes stay dead; new connections pass again.
  before.send("PING\r\n");
  CHECK(before.read(1, 300ms).empty());
  Client after(proxy.port());
  after.send(kPing);
  CHECK(after.read(kPong.size(), 2s) == kPong);
}

TEST_CASE("fault proxy: reset sends RST to old and new connections", "[proxy]") {
  FaultProxy proxy(redis_port());
  Client before(proxy.port());
  before.send(kPing);
  REQUIRE(before.read(kPong.size(), 2s) == kPong);
  proxy.reset();
  before.read(1, 1s);
  CHECK(before.closed);
  CHECK(before.error == ECONNRESET);
  Client during(proxy.port());  // the kernel accepts it; the proxy resets it
  during.read(1, 1s);
  CHECK(during.closed);
  CHECK(during.error == ECONNRESET);
  CHECK(proxy.resets() >= 2);
  proxy.pass();
  Client after(proxy.port());
  after.send(kPing);
  CHECK(after.read(kPong.size(), 2s) == kPong);
}
