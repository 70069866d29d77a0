// URL <-> Options for the Redis driver (docs/drivers/redis.md, "URLs").
#include "redis_options.h"

#include <string_view>
#include <utility>

#include <kvstore/driver/shared_params.h>
#include <kvstore/error.h>

namespace kvstore::redis {

namespace detail {

namespace {

using namespace std::chrono_literals;

[[noreturn]] void invalid(const std::string& why, const std::string& where) {
  throw Error(ErrorCode::invalid_argument, why + " in " + where, kDriver, false);
}

bool in_range(std::chrono::milliseconds d) { return d >= 1ms && d <= 1h; }

}  // namespace

Options options_from_url(Url& url) {
  return naming_errors(kDriver, [&] {
    Options options;
    const std::string& where = url.redacted();
    if (!url.has_authority()) invalid("a Redis URL needs \"//\" (redis://host:port/db)", where);
    options.user = url.user();
    options.password = url.password();
    if (url.scheme() == "redis+unix") {
      if (!url.host().empty() || url.port()) {
        invalid("redis+unix URLs take a socket path, not a host (redis+unix:///path/redis.sock)",
                where);
      }
      if (url.path().empty() || url.path() == "/") invalid("no socket path", where);
      options.socket_path = url.path();
      if (auto db = url.take_int("db", 0, 1000000)) options.db = *db;
    } else {
      if (!url.host().empty()) options.host = url.host();
      if (url.port()) options.port = *url.port();
      std::string_view path = url.path();
      if (!path.empty() && path.front() == '/') path.remove_prefix(1);
      if (!path.empty()) {
        if (path.size() > 7 || path.find_first_not_of("0123456789") != std::string_view::npos) {
          invalid("the path must be a database number (redis://host:port/0)", where);
        }
        options.db = std::stoll(std::string(path));
      }
    }
    if (std::optional<std::string> prefix = url.take("prefix")) options.prefix = std::move(*prefix);
    const ConnectionOptions shared = take_connection_options(url);
    options.pool_size = shared.pool_size;
    options.pool_timeout = shared.pool_timeout;
    options.connect_timeout = shared.connect_timeout;
    options.command_timeout = shared.command_timeout;
    validate(options, where);
    return options;
  });
}

void validate(const Options& options, const std::string& where) {
  if (!options.user.empty() && !options.password) {
    invalid("a user name needs a password (redis://user:password@host)", where);
  }
  if (options.socket_path.empty() && options.host.empty()) invalid("no host", where);
  if (options.db < 0 || options.db > 1000000) invalid("db must be in 0..1000000", where);
  if (options.prefix.size() > 1024) invalid("prefix is longer than 1024 bytes", where);
  if (options.pool_size < 1 || options.pool_size > 1024) {
    invalid("pool_size must be in 1..1024", where);
  }
  const std::pair<const char*, std::chrono::milliseconds> durations[] = {
      {"pool_timeout", options.pool_timeout},
      {"connect_timeout", options.connect_timeout},
      {"command_timeout", options.command_timeout}};
  for (const auto& [name, value] : durations) {
    if (!in_range(value)) invalid(std::string(name) + " must be in 1ms..1h", where);
  }
}

std::string describe(const Options& options) {
  std::string text = options.socket_path.empty() ? "redis://" : "redis+unix://";
  if (options.password) text += options.user + ":***@";
  if (options.socket_path.empty()) {
    const bool ipv6 = options.host.find(':') != std::string::npos;
    text += ipv6 ? "[" + options.host + "]" : options.host;
    text += ":" + std::to_string(options.port) + "/" + std::to_string(options.db);
  } else {
    text += options.socket_path;
    if (options.db != 0) text += "?db=" + std::to_string(options.db);
  }
  return text;
}

}  // namespace detail

Options Options::from_url(std::string_view text) {
  return naming_errors(detail::kDriver, [&] {
    Url url = Url::parse(text);
    // What every store takes, as the registry reads it (registry.cpp).
    StoreSettings store = take_store_settings(url);
    Options options = detail::options_from_url(url);
    options.store = store;
    url.reject_unknown_params(detail::kDriver);
    return options;
  });
}

}  // namespace kvstore::redis
