// A TCP proxy on 127.0.0.1 between a store and its server that injects
// network faults on demand, for the fault scenarios (tests/faults/).
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

namespace test_support {

// Listens on an ephemeral loopback port and forwards every connection to
// 127.0.0.1:<target_port>. The mode applies to every connection, old and new,
// from the moment set_* returns (the proxy thread picks it up within a few
// milliseconds).
//
// Thread safety: every member may be called from any thread. The proxy owns
// one poll-based thread, started by the constructor and joined by the
// destructor, which also closes every socket. Not copyable or movable.
class FaultProxy {
 public:
  enum class Mode {
    pass,       // forward everything as it comes
    delay,      // hold each chunk for delay() in each direction
    throttle,   // forward at most rate() bytes per second in each direction
    split,      // forward server replies one byte per write (TCP_NODELAY)
    blackhole,  // accept and read, forward nothing, say nothing
    reset,      // RST every connection (SO_LINGER 0 + close) and every new one
  };

  explicit FaultProxy(int target_port);
  ~FaultProxy();
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  int port() const noexcept { return port_; }

  void pass() { set(Mode::pass); }
  void delay(std::chrono::milliseconds each_way);
  void throttle(std::size_t bytes_per_second);
  void split() { set(Mode::split); }
  // A connection that lost bytes to the blackhole stays blackholed until it
  // is closed (its stream is broken, as when a firewall or NAT drops its
  // state); connections opened after the blackhole ends pass.
  void blackhole() { set(Mode::blackhole); }
  void reset() { set(Mode::reset); }
  Mode mode() const;

  // Connections accepted so far, and those ended with an RST by reset mode
  // (counted before the RST is sent).
  std::uint64_t accepted() const noexcept { return accepted_.load(); }
  std::uint64_t resets() const noexcept { return resets_.load(); }
  // Writes towards clients (in split mode one per byte), counted once send()
  // returns: a client may read the byte first.
  std::uint64_t client_writes() const noexcept { return client_writes_.load(); }

 private:
  struct Settings {
    Mode mode = Mode::pass;
    std::chrono::milliseconds delay{0};
    std::size_t rate = 0;
  };
  void set(Mode mode);
  Settings settings() const;
  void run();
  void wake();

  int target_port_;
  int port_ = 0;
  int listen_fd_ = -1;
  int wake_pipe_[2] = {-1, -1};
  mutable std::mutex mutex_;
  Settings settings_;
  std::atomic<bool> stopping_{false};
  std::atomic<std::uint64_t> accepted_{0};
  std::atomic<std::uint64_t> resets_{0};
  std::atomic<std::uint64_t> client_writes_{0};
  std::thread thread_;
};

}  // namespace test_support
