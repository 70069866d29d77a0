// The URL parameters every driver with connections or sweeps shares: one
// name, one range, one default and one unit syntax ("500ms", "2s") in every
// driver. A driver takes them with these functions instead of its own
// Url::take_* calls (docs/drivers.md lists them).
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

#include <kvstore/driver/connection_pool.h>
#include <kvstore/store.h>
#include <kvstore/url.h>

namespace kvstore {

struct ConnectionOptions {
  std::size_t pool_size = 8;                         // pool_size:       1..1024
  std::chrono::milliseconds pool_timeout{5000};      // pool_timeout:    1ms..1h
  std::chrono::milliseconds connect_timeout{5000};   // connect_timeout: 1ms..1h
  std::chrono::milliseconds command_timeout{10000};  // command_timeout: 1ms..1h

  PoolOptions pool() const {
    PoolOptions options;
    options.size = pool_size;
    options.wait_timeout = pool_timeout;
    return options;
  }
};

struct SweepOptions {
  std::chrono::milliseconds sweep_interval{1000};  // sweep_interval: 0..1h; 0 turns sweeping off
  std::size_t sweep_batch = 500;                   // sweep_batch:    1..100000 rows per sweep
};

// The ranges of the shared parameters (see the structs above).
inline constexpr std::size_t kMaxPoolSize = 1024;
inline constexpr std::size_t kMaxSweepBatch = 100000;
inline constexpr std::chrono::milliseconds kLongestTimeout = std::chrono::hours(1);
inline constexpr std::size_t kMaxAsyncWorkers = 1024;
inline constexpr std::size_t kMaxAsyncQueue = 1000000;

// For typed options that did not come from a URL: throw
// Error(invalid_argument) naming `driver`: "NAME must be from MIN to MAX (got VALUE)".
void check_param_range(const std::string& driver, std::string_view name,
                       std::chrono::milliseconds value, std::chrono::milliseconds min,
                       std::chrono::milliseconds max);
void check_param_range(const std::string& driver, std::string_view name, std::size_t value,
                       std::size_t min, std::size_t max);
// Every field within the range its URL parameter has.
void validate(const std::string& driver, const ConnectionOptions& options);
void validate(const std::string& driver, const SweepOptions& options);

// Runs `f`; an Error it throws without a driver name (from Url::take_* or
// the checks above) is rethrown naming `driver`.
template <class F>
auto naming_errors(const std::string& driver, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const Error& e) {
    if (!e.driver().empty()) throw;
    throw e.with_driver(driver);
  }
}

// Takes pool_size, pool_timeout, connect_timeout and command_timeout from
// `url`, each absent one keeping its default. Throws Error(invalid_argument)
// for a value out of range.
ConnectionOptions take_connection_options(Url& url);

// Takes sweep_interval and sweep_batch from `url`.
SweepOptions take_sweep_options(Url& url);

// Takes the parameters every store accepts (max_value_size, list_page_size,
// request_timeout, async_workers, async_queue), as open() does; for a
// driver's Options::from_url.
StoreSettings take_store_settings(Url& url);

}  // namespace kvstore
