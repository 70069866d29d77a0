// activitypub_cache: a small HTTP service that caches ActivityPub documents
// in a kvstore through the async API (<kvstore/boost_asio.h>, co_await).
//
//   activitypub_cache [STORE_URL] [--port P] [--ttl-ms N] [--threads N]
//
//   GET  /doc/<id>                          the document: from the store
//                                           (X-Cache: hit) or "fetched from
//                                           origin" and stored with a TTL
//                                           (X-Cache: miss)
//   PUT  /followers/<actor>/<follower>      records a follower (204)
//   GET  /followers/<actor>?limit=N&after=K a page of followers, in order,
//                                           after follower K:
//                                           {"actor","items":[...],"next"}
//
// It listens on 127.0.0.1 (port 0: an ephemeral one), prints
// "listening on port P" once ready, and stops on SIGINT or SIGTERM.
// The origin is simulated: a miss generates a deterministic JSON-LD Note,
// so the example needs no network.
#include <utility>  // before Boost 1.74's awaitable.hpp (GCC 12)

#include <charconv>
#include <cstdio>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <kvstore/boost_asio.h>
#include <kvstore/kvstore.h>

#if !defined(BOOST_ASIO_HAS_CO_AWAIT)
#error "activitypub_cache needs C++20 coroutines in Boost.Asio (GCC 12; not clang 14 + libstdc++)"
#endif

namespace net = boost::asio;
namespace http = boost::beast::http;
using net::ip::tcp;
using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

namespace {

struct Config {
  std::string url = "memory:";
  unsigned short port = 0;
  std::chrono::milliseconds ttl{60'000};
  int threads = 2;
};

// The document the "origin" serves for `id`.
std::string fetch_from_origin(std::string_view id) {
  kvstore::Value doc = {
      {"@context", "https://www.w3.org/ns/activitystreams"},
      {"id", "https://origin.example/doc/" + std::string(id)},
      {"type", "Note"},
      {"attributedTo", "https://origin.example/users/alice"},
      {"content", "Document " + std::string(id)},
  };
  return doc.dump();
}

// Splits "/a/b/c" into its non-empty segments.
std::vector<std::string> segments(std::string_view path) {
  std::vector<std::string> out;
  while (!path.empty()) {
    const auto slash = path.find('/');
    std::string_view part = path.substr(0, slash);
    if (!part.empty()) out.emplace_back(part);
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

// The value of query parameter `name` in "k=v&k2=v2" (no %-decoding: ids
// here are plain tokens).
std::optional<std::string> query_param(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    const auto amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    const auto eq = pair.find('=');
    if (pair.substr(0, eq) == name) {
      return std::string(eq == std::string_view::npos ? "" : pair.substr(eq + 1));
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

Response reply(const Request& req, http::status status, std::string body,
               std::string_view content_type = "application/json") {
  Response res{status, req.version()};
  res.set(http::field::content_type, std::string(content_type));
  res.keep_alive(req.keep_alive());
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

// JSON values are built outside coroutines: GCC 12 rejects braced JSON
// literals in a coroutine frame ("array used as initializer").
kvstore::Value follower_record(const std::string& follower) {
  kvstore::Value record = kvstore::Value::object();
  record["follower"] = follower;
  return record;
}

kvstore::Value followers_page(const std::string& actor, kvstore::Value items, bool more) {
  kvstore::Value body = kvstore::Value::object();
  body["actor"] = actor;
  body["next"] = more ? items.back() : kvstore::Value(nullptr);
  body["items"] = std::move(items);
  return body;
}

Response error_reply(const Request& req, http::status status, std::string_view message) {
  return reply(req, status, kvstore::Value{{"error", message}}.dump());
}

net::awaitable<Response> get_doc(kvstore::boost_asio::store& kv, const Request& req,
                                 const std::string& id, std::chrono::milliseconds ttl) {
  const kvstore::KvKey key{"activitypub", "doc", id};
  std::optional<std::string> cached = co_await kv.async_get_json(key, net::use_awaitable);
  std::string_view cache = "hit";
  if (!cached) {
    cache = "miss";
    cached = fetch_from_origin(id);
    co_await kv.async_set_json(key, *cached, kvstore::SetOptions{ttl}, net::use_awaitable);
  }
  Response res = reply(req, http::status::ok, std::move(*cached), "application/activity+json");
  res.set("X-Cache", std::string(cache));
  co_return res;
}

net::awaitable<Response> put_follower(kvstore::boost_asio::store& kv, const Request& req,
                                      const std::string& actor, const std::string& follower) {
  // A named key: GCC 12 rejects braced string lists inside co_await.
  const kvstore::KvKey key{"activitypub", "followers", actor, follower};
  co_await kv.async_set(key, follower_record(follower), net::use_awaitable);
  Response res{http::status::no_content, req.version()};
  res.keep_alive(req.keep_alive());
  res.prepare_payload();
  co_return res;
}

net::awaitable<Response> get_followers(kvstore::boost_asio::store& kv, const Request& req,
                                       const std::string& actor, std::string_view query) {
  const kvstore::KvKey prefix{"activitypub", "followers", actor};
  std::size_t limit = 20;
  if (auto text = query_param(query, "limit")) {
    auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), limit);
    if (ec != std::errc() || end != text->data() + text->size() || limit == 0 || limit > 1000) {
      co_return error_reply(req, http::status::bad_request, "limit must be 1..1000");
    }
  }
  kvstore::ListOptions options;
  options.limit = limit + 1;  // one more tells whether there is a next page
  if (auto after = query_param(query, "after")) {
    kvstore::KvKey start = prefix;
    start.push_back(*after);
    options.start_after = std::move(start);
  }
  auto cursor = kv.list(prefix, options);
  kvstore::Value items = kvstore::Value::array();
  bool more = false;
  while (auto entry = co_await cursor.async_next(net::use_awaitable)) {
    if (items.size() == limit) {
      more = true;
      break;
    }
    items.push_back(entry->key.back());
  }
  co_return reply(req, http::status::ok, followers_page(actor, std::move(items), more).dump());
}

net::awaitable<Response> route(kvstore::boost_asio::store& kv, const Request& req,
                               const Config& config) {
  const std::string_view target(req.target().data(), req.target().size());
  const auto question = target.find('?');
  const std::string_view path = target.substr(0, question);
  const std::string_view query =
      question == std::string_view::npos ? std::string_view() : target.substr(question + 1);
  const std::vector<std::string> parts = segments(path);
  try {
    if (req.method() == http::verb::get && parts.size() == 2 && parts[0] == "doc") {
      co_return co_await get_doc(kv, req, parts[1], config.ttl);
    }
    if (req.method() == http::verb::put && parts.size() == 3 && parts[0] == "followers") {
      co_return co_await put_follower(kv, req, parts[1], parts[2]);
    }
    if (req.method() == http::verb::get && parts.size() == 2 && parts[0] == "followers") {
      co_return co_await get_followers(kv, req, parts[1], query);
    }
  } catch (const kvstore::Error& e) {
    // Error messages never carry passwords (error.h).
    const auto status = e.code() == kvstore::ErrorCode::invalid_argument
                            ? http::status::bad_request
                            : http::status::service_unavailable;
    co_return error_reply(req, status, e.what());
  }
  co_return error_reply(req, http::status::not_found, "no such route");
}

// The open connections, so that a stop closes them and io_context::run()
// returns once every session (and every store call it awaits) is done.
class Connections {
 public:
  void add(const std::shared_ptr<boost::beast::tcp_stream>& stream) {
    std::lock_guard lock(mutex_);
    std::erase_if(open_, [](const auto& weak) { return weak.expired(); });
    open_.push_back(stream);
  }
  // Closes each connection on its own strand.
  void close_all() {
    std::lock_guard lock(mutex_);
    for (const auto& weak : open_) {
      if (auto stream = weak.lock()) {
        net::post(stream->get_executor(), [stream] {
          boost::system::error_code ignored;
          stream->socket().close(ignored);
        });
      }
    }
    open_.clear();
  }

 private:
  std::mutex mutex_;
  std::vector<std::weak_ptr<boost::beast::tcp_stream>> open_;
};

// One connection, on its own strand: requests are served in order.
net::awaitable<void> session(std::shared_ptr<boost::beast::tcp_stream> stream,
                             kvstore::boost_asio::store kv, const Config& config) {
  boost::beast::flat_buffer buffer;
  // The store handle completes on this coroutine's executor (the strand).
  kv = kvstore::boost_asio::store(kv.kv(), co_await net::this_coro::executor);
  try {
    for (;;) {
      Request req;
      co_await http::async_read(*stream, buffer, req, net::use_awaitable);
      Response res = co_await route(kv, req, config);
      const bool keep_alive = res.keep_alive();
      co_await http::async_write(*stream, res, net::use_awaitable);
      if (!keep_alive) break;
    }
  } catch (const boost::system::system_error& e) {
    if (e.code() != http::error::end_of_stream && e.code() != net::error::operation_aborted &&
        e.code() != net::error::bad_descriptor) {
      std::cerr << "activitypub_cache: connection: " << e.what() << "\n";
    }
  }
  boost::system::error_code ignored;
  stream->socket().shutdown(tcp::socket::shutdown_send, ignored);
}

net::awaitable<void> serve(tcp::acceptor& acceptor, Connections& connections,
                           kvstore::boost_asio::store kv, const Config& config) {
  try {
    for (;;) {
      tcp::socket socket = co_await acceptor.async_accept(net::make_strand(acceptor.get_executor()),
                                                          net::use_awaitable);
      auto stream = std::make_shared<boost::beast::tcp_stream>(std::move(socket));
      connections.add(stream);
      auto ex = stream->get_executor();
      net::co_spawn(ex, session(std::move(stream), kv, config), net::detached);
    }
  } catch (const boost::system::system_error& e) {
    if (e.code() != net::error::operation_aborted) throw;  // closed by a stop
  }
}

int usage(const char* why) {
  std::cerr << "activitypub_cache: " << why
            << "\nusage: activitypub_cache [STORE_URL] [--port P] [--ttl-ms N] [--threads N]\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  Config config;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    auto number = [&](long long low, long long high) -> std::optional<long long> {
      if (i + 1 >= argc) return std::nullopt;
      const std::string_view text = argv[++i];
      long long n = 0;
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
      if (ec != std::errc() || end != text.data() + text.size() || n < low || n > high) {
        return std::nullopt;
      }
      return n;
    };
    if (arg == "--port") {
      auto n = number(0, 65535);
      if (!n) return usage("--port takes 0..65535");
      config.port = static_cast<unsigned short>(*n);
    } else if (arg == "--ttl-ms") {
      auto n = number(1, 86'400'000);
      if (!n) return usage("--ttl-ms takes 1..86400000");
      config.ttl = std::chrono::milliseconds(*n);
    } else if (arg == "--threads") {
      auto n = number(1, 64);
      if (!n) return usage("--threads takes 1..64");
      config.threads = static_cast<int>(*n);
    } else if (arg.starts_with("--")) {
      return usage("unknown option");
    } else {
      config.url = std::string(arg);
    }
  }

  try {
    std::shared_ptr<kvstore::KvStore> core = kvstore::open(config.url);
    core->ping();  // fail at start, not on the first request
    net::io_context io(config.threads);
    kvstore::boost_asio::store kv(core, io.get_executor());
    core.reset();  // the handles own it from here

    // The acceptor, its coroutine and the stop share a strand.
    tcp::acceptor acceptor(net::make_strand(io), {net::ip::make_address("127.0.0.1"), config.port});
    Connections connections;
    // A stop lets everything in progress finish, so no store call is left
    // pending when the io_context goes away.
    net::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait(net::bind_executor(acceptor.get_executor(), [&](auto, int) {
      boost::system::error_code ignored;
      acceptor.close(ignored);
      connections.close_all();
    }));
    net::co_spawn(acceptor.get_executor(), serve(acceptor, connections, kv, config), net::detached);

    std::cout << "listening on port " << acceptor.local_endpoint().port() << std::endl;
    std::vector<std::thread> threads;
    for (int i = 1; i < config.threads; ++i) threads.emplace_back([&] { io.run(); });
    io.run();
    for (auto& t : threads) t.join();
  } catch (const std::exception& e) {
    std::cerr << "activitypub_cache: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
