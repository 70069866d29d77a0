#include <kvstore/driver/shared_params.h>

#include <string>

#include <kvstore/error.h>

namespace kvstore {

namespace {
constexpr std::chrono::milliseconds kShortest{1};
constexpr std::chrono::milliseconds kLongest = kLongestTimeout;
}  // namespace

void check_param_range(const std::string& driver, std::string_view name,
                       std::chrono::milliseconds value, std::chrono::milliseconds min,
                       std::chrono::milliseconds max) {
  if (value < min || value > max) {
    throw Error(ErrorCode::invalid_argument,
                std::string(name) + " must be from " + format_duration(min) + " to " +
                    format_duration(max) + " (got " + std::to_string(value.count()) + "ms)",
                driver, false);
  }
}

void check_param_range(const std::string& driver, std::string_view name, std::size_t value,
                       std::size_t min, std::size_t max) {
  if (value < min || value > max) {
    throw Error(ErrorCode::invalid_argument,
                std::string(name) + " must be from " + std::to_string(min) + " to " +
                    std::to_string(max) + " (got " + std::to_string(value) + ")",
                driver, false);
  }
}

void validate(const std::string& driver, const ConnectionOptions& options) {
  check_param_range(driver, "pool_size", options.pool_size, 1, kMaxPoolSize);
  check_param_range(driver, "pool_timeout", options.pool_timeout, kShortest, kLongest);
  check_param_range(driver, "connect_timeout", options.connect_timeout, kShortest, kLongest);
  check_param_range(driver, "command_timeout", options.command_timeout, kShortest, kLongest);
}

void validate(const std::string& driver, const SweepOptions& options) {
  check_param_range(driver, "sweep_interval", options.sweep_interval, std::chrono::milliseconds(0),
                    kLongest);
  check_param_range(driver, "sweep_batch", options.sweep_batch, 1, kMaxSweepBatch);
}

ConnectionOptions take_connection_options(Url& url) {
  ConnectionOptions options;
  if (auto v = url.take_int("pool_size", 1, static_cast<std::int64_t>(kMaxPoolSize)))
    options.pool_size = static_cast<std::size_t>(*v);
  if (auto v = url.take_duration("pool_timeout", kShortest, kLongest)) options.pool_timeout = *v;
  if (auto v = url.take_duration("connect_timeout", kShortest, kLongest)) {
    options.connect_timeout = *v;
  }
  if (auto v = url.take_duration("command_timeout", kShortest, kLongest)) {
    options.command_timeout = *v;
  }
  return options;
}

StoreSettings take_store_settings(Url& url) {
  StoreSettings settings;
  settings.max_value_bytes = url.take_size("max_value_size");
  if (auto pages = url.take_int("list_page_size", 1, 100000)) {
    settings.list_page_size = static_cast<std::size_t>(*pages);
  }
  settings.request_timeout = url.take_duration("request_timeout", kShortest, kLongest);
  if (auto n = url.take_int("async_workers", 1, static_cast<std::int64_t>(kMaxAsyncWorkers))) {
    settings.async_workers = static_cast<std::size_t>(*n);
  }
  if (auto n = url.take_int("async_queue", 1, static_cast<std::int64_t>(kMaxAsyncQueue))) {
    settings.async_queue = static_cast<std::size_t>(*n);
  }
  return settings;
}

SweepOptions take_sweep_options(Url& url) {
  SweepOptions options;
  if (auto v = url.take_duration("sweep_interval", std::chrono::milliseconds(0), kLongest)) {
    options.sweep_interval = *v;
  }
  if (auto v = url.take_int("sweep_batch", 1, static_cast<std::int64_t>(kMaxSweepBatch))) {
    options.sweep_batch = static_cast<std::size_t>(*v);
  }
  return options;
}

}  // namespace kvstore
