// The conformance suite's entry points (kvstore/conformance.h).
//
//   kvstore_conformance --kv-url 'memory:' [catch2 options]
//   kvstore_conformance --kv-url 'sqlite:/tmp/t/{ns}.db'
//   kvstore_conformance --kv-url-env KVSTORE_TEST_REDIS_URL --kv-ns-param prefix
//
// --kv-url gives the store URL; "{ns}" in it becomes a fresh namespace for
// each store opened. --kv-url-env reads the URL from an environment variable
// instead, and --kv-ns-param names the URL parameter that receives the
// namespace (e.g. "table" or "prefix"). A missing URL fails every test: a
// driver whose server is not running is reported as failing, never as passing.
// --kv-api blocking|callback|asio selects the API every call goes through
// (fixture.h); blocking by default.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <unistd.h>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <random>

#include <kvstore/conformance.h>

#include "fixture.h"

namespace {
std::string url_template;
std::string url_env;
std::string ns_param;
std::string last_ns;
std::string last_opened_url;
std::string api_name = "blocking";
conformance::Api selected_api = conformance::Api::blocking;

std::string make_namespace() {
  static std::atomic<unsigned> counter{0};
  static const unsigned long run = [] {
    std::random_device device;
    return static_cast<unsigned long>(device()) ^
           static_cast<unsigned long>(std::chrono::steady_clock::now().time_since_epoch().count());
  }();
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "kvt_%d_%lx_%u", static_cast<int>(::getpid()),
                run & 0xffffff, counter++);
  return buffer;
}
}  // namespace

namespace conformance {

Api api() { return selected_api; }

std::unique_ptr<Store> open_store(const std::string& same_as) {
  return open_store_with({}, same_as);
}

std::unique_ptr<Store> open_store_with(const std::string& params, const std::string& same_as) {
  std::string url = url_template;
  if (!url_env.empty()) {
    const char* value = std::getenv(url_env.c_str());
    if (value == nullptr || *value == '\0') {
      FAIL(url_env << " is not set: start the test servers first "
                      "(scripts/test.sh does; see README.md)");
    }
    url = value;
  }
  if (url.empty()) FAIL("no store URL: pass --kv-url or --kv-url-env");
  last_ns = same_as.empty() ? make_namespace() : same_as;
  if (!ns_param.empty()) {
    url += (url.find('?') == std::string::npos ? "?" : "&") + ns_param + "=" + last_ns;
  }
  if (!params.empty()) url += (url.find('?') == std::string::npos ? "?" : "&") + params;
  for (std::size_t at; (at = url.find("{ns}")) != std::string::npos;) url.replace(at, 4, last_ns);
  last_opened_url = url;
  return std::make_unique<Store>(kvstore::open(url));
}

const std::string& last_namespace() { return last_ns; }
const std::string& last_url() { return last_opened_url; }

}  // namespace conformance

namespace kvstore::conformance {

int run(int argc, char* argv[]) {
  Catch::Session session;
  using Catch::clara::Opt;
  session.cli(
      session.cli() |
      Opt(url_template, "url")["--kv-url"]("store URL; {ns} becomes a fresh namespace") |
      Opt(url_env, "variable")["--kv-url-env"]("read the store URL from this variable") |
      Opt(ns_param, "name")["--kv-ns-param"]("URL parameter that receives the namespace") |
      Opt(api_name, "blocking|callback|asio")["--kv-api"]("the API every call goes through"));
  if (int rc = session.applyCommandLine(argc, argv); rc != 0) return rc;
  if (api_name == "blocking") {
    selected_api = ::conformance::Api::blocking;
  } else if (api_name == "callback") {
    selected_api = ::conformance::Api::callback;
  } else if (api_name == "asio") {
#if defined(KVSTORE_CONFORMANCE_ASIO)
    selected_api = ::conformance::Api::asio;
#else
    std::fprintf(stderr, "--kv-api asio: this suite was built without Boost.Asio coroutines\n");
    return 2;
#endif
  } else {
    std::fprintf(stderr, "--kv-api must be blocking, callback or asio, got '%s'\n",
                 api_name.c_str());
    return 2;
  }
  return session.run();
}

int run(const std::string& url, const std::vector<std::string>& catch_args) {
  std::vector<std::string> args = {"kvstore-conformance", "--kv-url", url};
  args.insert(args.end(), catch_args.begin(), catch_args.end());
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  return run(static_cast<int>(args.size()), argv.data());
}

}  // namespace kvstore::conformance
