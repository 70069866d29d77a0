#include "fault_proxy.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <deque>
#include <list>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

namespace test_support {

namespace {

using Clock = std::chrono::steady_clock;

// Bytes a direction buffers before it stops reading (back-pressure).
constexpr std::size_t kMaxQueued = 1 << 20;

[[noreturn]] void fail(const char* what) {
  throw std::system_error(errno, std::generic_category(), what);
}

void set_nonblocking(int fd) {
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) fail("fcntl");
}

void set_nodelay(int fd) {
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

// Closes with an RST instead of a FIN: the peer's next read or write fails
// with ECONNRESET, as when a middlebox or a crashed host resets it.
void close_with_reset(int fd) {
  if (fd < 0) return;
  linger option{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &option, sizeof option);
  ::close(fd);
}

struct Chunk {
  Clock::time_point ready;
  std::string bytes;
  std::size_t offset = 0;
};

struct Direction {
  std::deque<Chunk> queue;
  std::size_t queued = 0;
  bool eof = false;  // the sending side closed
  double tokens = 0;
  Clock::time_point refilled = Clock::now();

  void drop() {
    queue.clear();
    queued = 0;
  }
  bool ready(Clock::time_point now) const { return !queue.empty() && queue.front().ready <= now; }
};

struct Connection {
  int client = -1;
  int server = -1;
  bool connecting = false;
  bool tainted = false;  // lost bytes to a blackhole: stays blackholed
  bool dead = false;
  bool reset = false;  // end with RST rather than FIN
  Direction up;        // client -> server
  Direction down;      // server -> client
};

}  // namespace

FaultProxy::FaultProxy(int target_port) : target_port_(target_port) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  if (listen_fd_ < 0) fail("socket");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof address;
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::listen(listen_fd_, 128) != 0 ||
      ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &size) != 0 ||
      ::pipe(wake_pipe_) != 0) {
    const int saved = errno;
    ::close(listen_fd_);
    errno = saved;
    fail("proxy listen");
  }
  port_ = ntohs(address.sin_port);
  set_nonblocking(listen_fd_);
  set_nonblocking(wake_pipe_[0]);
  set_nonblocking(wake_pipe_[1]);
  thread_ = std::thread([this] { run(); });
}

FaultProxy::~FaultProxy() {
  stopping_ = true;
  wake();
  thread_.join();
  ::close(listen_fd_);
  ::close(wake_pipe_[0]);
  ::close(wake_pipe_[1]);
}

void FaultProxy::set(Mode mode) {
  {
    std::lock_guard lock(mutex_);
    settings_.mode = mode;
  }
  wake();
}

void FaultProxy::delay(std::chrono::milliseconds each_way) {
  {
    std::lock_guard lock(mutex_);
    settings_.mode = Mode::delay;
    settings_.delay = each_way;
  }
  wake();
}

void FaultProxy::throttle(std::size_t bytes_per_second) {
  {
    std::lock_guard lock(mutex_);
    settings_.mode = Mode::throttle;
    settings_.rate = std::max<std::size_t>(bytes_per_second, 1);
  }
  wake();
}

FaultProxy::Mode FaultProxy::mode() const { return settings().mode; }

FaultProxy::Settings FaultProxy::settings() const {
  std::lock_guard lock(mutex_);
  return settings_;
}

void FaultProxy::wake() {
  const char byte = 0;
  [[maybe_unused]] const auto written = ::write(wake_pipe_[1], &byte, 1);
}

void FaultProxy::run() {
  std::list<Connection> connections;
  std::vector<pollfd> fds;
  std::vector<Connection*> owners;  // fds[i] belongs to owners[i] (null: pipe, listener)
  char buffer[64 * 1024];

  auto close_connection = [&](Connection& c) {
    if (c.reset) {
      close_with_reset(c.client);
      close_with_reset(c.server);
    } else {
      if (c.client >= 0) ::close(c.client);
      if (c.server >= 0) ::close(c.server);
    }
    c.client = c.server = -1;
  };

  while (!stopping_) {
    const Settings s = settings();
    const Clock::time_point now = Clock::now();

    if (s.mode == Mode::reset) {
      for (Connection& c : connections) {
        c.reset = true;
        ++resets_;
        close_connection(c);
      }
      connections.clear();
    }
    if (s.mode == Mode::blackhole) {
      for (Connection& c : connections) {
        if (c.up.queued + c.down.queued > 0) c.tainted = true;
        c.up.drop();
        c.down.drop();
      }
    }

    // Read what each side sent.
    // (Collected below from poll; here decide what to wait for.)
    fds.clear();
    owners.clear();
    fds.push_back({wake_pipe_[0], POLLIN, 0});
    owners.push_back(nullptr);
    fds.push_back({listen_fd_, POLLIN, 0});
    owners.push_back(nullptr);
    int timeout_ms = 100;
    for (Connection& c : connections) {
      const bool holing = c.tainted || s.mode == Mode::blackhole;
      short client_events = 0;
      short server_events = 0;
      if (!c.up.eof && c.up.queued < kMaxQueued) client_events |= POLLIN;
      if (c.server >= 0 && !c.connecting && !c.down.eof && c.down.queued < kMaxQueued) {
        server_events |= POLLIN;
      }
      if (c.connecting) server_events |= POLLOUT;
      if (!holing) {
        auto want_write = [&](const Direction& d, short& events) {
          if (d.queue.empty()) return;
          if (d.queue.front().ready > now) {
            const auto wait =
                std::chrono::ceil<std::chrono::milliseconds>(d.queue.front().ready - now);
            timeout_ms = std::min<int>(timeout_ms, static_cast<int>(wait.count()));
            return;
          }
          if (s.mode == Mode::throttle && d.tokens < 1) {
            timeout_ms = std::min(timeout_ms, 5);
            return;
          }
          events |= POLLOUT;
        };
        if (!c.connecting && c.server >= 0) want_write(c.up, server_events);
        want_write(c.down, client_events);
      }
      fds.push_back({c.client, client_events, 0});
      owners.push_back(&c);
      if (c.server >= 0) {
        fds.push_back({c.server, server_events, 0});
        owners.push_back(&c);
      }
    }
    const int ready = ::poll(fds.data(), fds.size(), std::max(timeout_ms, 0));
    if (ready < 0 && errno != EINTR) break;
    if (stopping_) break;
    if (fds[0].revents & POLLIN) {
      while (::read(wake_pipe_[0], buffer, sizeof buffer) > 0) {
      }
    }

    const Settings current = settings();  // a mode set during poll applies now
    const Clock::time_point after = Clock::now();

    // Accept new connections.
    if (fds[1].revents & POLLIN) {
      for (;;) {
        const int client = ::accept(listen_fd_, nullptr, nullptr);
        if (client < 0) break;
        ++accepted_;
        // Read per connection: one the client opened after set_*() returned
        // gets the new mode.
        const Mode mode = settings().mode;
        if (mode == Mode::reset) {
          ++resets_;  // counted before the client can see it
          close_with_reset(client);
          continue;
        }
        set_nonblocking(client);
        set_nodelay(client);
        Connection c;
        c.client = client;
        if (mode == Mode::blackhole) {
          c.tainted = true;  // never reaches the server
        } else {
          c.server = ::socket(AF_INET, SOCK_STREAM, 0);
          if (c.server < 0) {
            close_with_reset(client);
            continue;
          }
          set_nonblocking(c.server);
          set_nodelay(c.server);
          sockaddr_in target{};
          target.sin_family = AF_INET;
          target.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
          target.sin_port = htons(static_cast<std::uint16_t>(target_port_));
          if (::connect(c.server, reinterpret_cast<sockaddr*>(&target), sizeof target) == 0) {
            c.connecting = false;
          } else if (errno == EINPROGRESS) {
            c.connecting = true;
          } else {
            // The server is down: the client sees the refusal as a reset.
            ::close(c.server);
            close_with_reset(client);
            continue;
          }
        }
        connections.push_back(std::move(c));
      }
    }

    // Serve the connections that poll looked at (new ones wait for the next round).
    for (std::size_t i = 2; i < fds.size(); ++i) {
      Connection& c = *owners[i];
      if (c.dead || fds[i].revents == 0) continue;
      const bool is_client = fds[i].fd == c.client;
      Direction& in = is_client ? c.up : c.down;   // data read from this fd
      Direction& out = is_client ? c.down : c.up;  // data written to this fd
      const short ev = fds[i].revents;
      if (!is_client && c.connecting && (ev & (POLLOUT | POLLERR | POLLHUP))) {
        int error = 0;
        socklen_t size = sizeof error;
        ::getsockopt(c.server, SOL_SOCKET, SO_ERROR, &error, &size);
        if (error != 0) {
          c.reset = true;
          c.dead = true;
          continue;
        }
        c.connecting = false;
        continue;
      }
      if (ev & (POLLIN | POLLHUP | POLLERR)) {
        const ssize_t n = ::read(fds[i].fd, buffer, sizeof buffer);
        if (n > 0) {
          if (c.tainted || current.mode == Mode::blackhole) {
            c.tainted = true;  // silently gone
          } else {
            const auto hold =
                current.mode == Mode::delay ? current.delay : std::chrono::milliseconds(0);
            in.queue.push_back({after + hold, std::string(buffer, static_cast<std::size_t>(n))});
            in.queued += static_cast<std::size_t>(n);
          }
        } else if (n == 0) {
          in.eof = true;
        } else if (errno != EAGAIN && errno != EINTR) {
          c.reset = true;  // pass a reset on as a reset
          c.dead = true;
          continue;
        }
      }
      if ((ev & POLLOUT) && !c.tainted && current.mode != Mode::blackhole && out.ready(after)) {
        Chunk& chunk = out.queue.front();
        std::size_t size = chunk.bytes.size() - chunk.offset;
        if (current.mode == Mode::split && is_client) size = 1;
        if (current.mode == Mode::throttle) {
          size = std::min<std::size_t>(size, static_cast<std::size_t>(out.tokens));
        }
        if (size > 0) {
          const ssize_t n =
              ::send(fds[i].fd, chunk.bytes.data() + chunk.offset, size, MSG_NOSIGNAL);
          if (n > 0) {
            if (is_client) ++client_writes_;
            chunk.offset += static_cast<std::size_t>(n);
            out.queued -= static_cast<std::size_t>(n);
            out.tokens -= static_cast<double>(n);
            if (chunk.offset == chunk.bytes.size()) out.queue.pop_front();
          } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
            c.reset = true;
            c.dead = true;
            continue;
          }
        }
      }
    }

    // Refill throttle budgets; end connections whose side closed and whose
    // data is delivered (or will never be: blackholed).
    for (Connection& c : connections) {
      for (Direction* d : {&c.up, &c.down}) {
        const double elapsed = std::chrono::duration<double>(after - d->refilled).count();
        d->refilled = after;
        if (current.mode == Mode::throttle) {
          const double rate = static_cast<double>(current.rate);
          d->tokens = std::min(d->tokens + rate * elapsed, std::max(rate / 20, 1.0));
        } else {
          d->tokens = 0;
        }
      }
      const bool holing = c.tainted || current.mode == Mode::blackhole;
      if (c.up.eof && (c.up.queue.empty() || holing)) c.dead = true;
      if (c.down.eof && (c.down.queue.empty() || holing)) c.dead = true;
    }
    for (auto it = connections.begin(); it != connections.end();) {
      if (it->dead) {
        close_connection(*it);
        it = connections.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (Connection& c : connections) close_connection(c);
}

}  // namespace test_support
