#include <kvstore/driver/shared_params.h>

namespace kvstore {

namespace {
constexpr std::chrono::milliseconds kShortest{1};
constexpr std::chrono::milliseconds kLongest = std::chrono::hours(1);
}  // namespace

ConnectionOptions take_connection_options(Url& url) {
  ConnectionOptions options;
  if (auto v = url.take_int("pool_size", 1, 1024)) options.pool_size = static_cast<std::size_t>(*v);
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
  return settings;
}

SweepOptions take_sweep_options(Url& url) {
  SweepOptions options;
  if (auto v = url.take_duration("sweep_interval", std::chrono::milliseconds(0), kLongest)) {
    options.sweep_interval = *v;
  }
  if (auto v = url.take_int("sweep_batch", 1, 100000)) {
    options.sweep_batch = static_cast<std::size_t>(*v);
  }
  return options;
}

}  // namespace kvstore
