#include "mysql_options.h"

#include <algorithm>
#include <chrono>
#include <utility>

#include <kvstore/driver/shared_params.h>
#include <kvstore/error.h>
#include <kvstore/key.h>

namespace kvstore::mysql {

namespace {

using std::chrono::milliseconds;

constexpr milliseconds kShortest{1};
constexpr milliseconds kLongest = std::chrono::hours(1);

[[noreturn]] void invalid(const std::string& message) {
  throw Error(ErrorCode::invalid_argument, message, kDriverName, false);
}

bool valid_table_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
}

bool has_param(const Url& url, std::string_view name) {
  const auto& params = url.remaining_params();
  return std::any_of(params.begin(), params.end(),
                     [&](const auto& param) { return param.first == name; });
}

Options parse(Url& url) {
  const std::string where = " in " + url.redacted();
  if (!url.has_authority()) {
    invalid("a mysql URL needs '//': mysql://user:password@host:port/database" + where);
  }
  Options options;
  if (!url.host().empty()) options.host = url.host();
  if (url.port()) options.port = *url.port();
  options.user = url.user();
  options.password = url.password().value_or("");
  std::string path = url.path();
  if (!path.empty() && path.front() == '/') path.erase(0, 1);
  if (path.empty()) invalid("the database name is missing (mysql://host/database)" + where);
  options.database = std::move(path);
  if (auto v = url.take("table")) options.table = *v;

  // io_timeout was this driver's name for command_timeout before the names
  // were shared; it stays as an alias so that existing URLs keep working.
  const bool has_command_timeout = has_param(url, "command_timeout");
  const ConnectionOptions connection = take_connection_options(url);
  options.pool_size = connection.pool_size;
  options.pool_timeout = connection.pool_timeout;
  options.connect_timeout = connection.connect_timeout;
  options.command_timeout = connection.command_timeout;
  if (auto v = url.take_duration("io_timeout", kShortest, kLongest)) {
    if (has_command_timeout) {
      invalid("io_timeout is a deprecated alias of command_timeout: give only command_timeout" +
              where);
    }
    options.command_timeout = *v;
  }
  const SweepOptions sweep = take_sweep_options(url);
  options.sweep_interval = sweep.sweep_interval;
  options.sweep_batch = sweep.sweep_batch;
  if (auto v = url.take_duration("lock_timeout", kShortest, kLongest)) options.lock_timeout = *v;
  try {
    validate(options);
  } catch (const Error& e) {
    invalid(e.message() + where);
  }
  return options;
}

}  // namespace

void validate(const Options& options) {
  if (options.host.empty()) invalid("the host is empty");
  if (options.port == 0) invalid("the port must be 1-65535");
  if (options.database.empty()) invalid("the database name is missing");
  if (options.database.find('/') != std::string::npos) {
    invalid("the database name must not contain '/'");
  }
  // The server would refuse these only after a handshake, and with errors
  // that look like a broken server (1300 "Invalid utf8mb3 character string").
  if (!is_valid_utf8(options.database) || options.database.find('\0') != std::string::npos) {
    invalid("the database name must be valid UTF-8 without NUL bytes");
  }
  if (!valid_table_name(options.table)) {
    invalid("table must be 1-64 characters of A-Z, a-z, 0-9 and _");
  }
  if (options.pool_size < 1 || options.pool_size > 1024) {
    invalid("pool_size must be between 1 and 1024, not " + std::to_string(options.pool_size));
  }
  check_param_range(kDriverName, "pool_timeout", options.pool_timeout, kShortest, kLongestTimeout);
  check_param_range(kDriverName, "connect_timeout", options.connect_timeout, kShortest,
                    kLongestTimeout);
  check_param_range(kDriverName, "command_timeout", options.command_timeout, kShortest,
                    kLongestTimeout);
  check_param_range(kDriverName, "lock_timeout", options.lock_timeout, kShortest, kLongestTimeout);
  check_param_range(kDriverName, "sweep_interval", options.sweep_interval, milliseconds(0),
                    kLongestTimeout);
  if (options.sweep_batch < 1 || options.sweep_batch > 100000) {
    invalid("sweep_batch must be between 1 and 100000, not " + std::to_string(options.sweep_batch));
  }
}

Options options_from_url(Url& url) {
  return naming_errors(kDriverName, [&] { return parse(url); });
}

Options Options::from_url(std::string_view text) {
  return naming_errors(kDriverName, [&] {
    Url url = Url::parse(text);
    if (url.scheme() != "mysql" && url.scheme() != "mariadb") {
      invalid("expected a mysql:// or mariadb:// URL, not " + url.redacted());
    }
    // The core's parameters, which open() takes before the driver sees the URL.
    StoreSettings store = take_store_settings(url);
    Options options = parse(url);
    options.store = store;
    url.reject_unknown_params(kDriverName);
    return options;
  });
}

std::string describe_server(const Options& options) {
  std::string host = options.host;
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  std::string out = "mysql://";
  if (!options.user.empty()) out += options.user + "@";
  return out + host + ":" + std::to_string(options.port) + "/" + options.database;
}

}  // namespace kvstore::mysql
