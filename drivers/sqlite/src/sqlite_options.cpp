#include "sqlite_options.h"

#include <cctype>
#include <chrono>
#include <functional>
#include <string>
#include <utility>

#include <kvstore/driver/shared_params.h>
#include <kvstore/error.h>

#include "sql.h"

namespace kvstore::sqlite {

namespace detail {
namespace {

using std::chrono::milliseconds;
using namespace std::chrono_literals;

[[noreturn]] void invalid(std::string message) {
  throw Error(ErrorCode::invalid_argument, std::move(message), kDriver, false);
}

constexpr milliseconds kBusyTimeoutMax = 1h;

const char* const kJournalModes[] = {"wal", "delete", "truncate", "persist"};
const char* const kSyncLevels[] = {"off", "normal", "full", "extra"};

template <std::size_t N>
std::string checked_choice(const std::string& name, std::string value,
                           const char* const (&allowed)[N]) {
  for (char& c : value) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string list;
  for (const char* a : allowed) {
    if (value == a) return value;
    list += (list.empty() ? "" : ", ") + std::string(a);
  }
  invalid(name + "='" + value + "' is not one of " + list);
}

}  // namespace

Options take_options(Url& url) {
  return naming_errors(kDriver, [&] {
    if (!url.host().empty() || url.port() || !url.user().empty() || url.password()) {
      invalid(
          "sqlite URLs take no host: write sqlite:relative/path.db, sqlite:/absolute/path.db "
          "or sqlite::memory: (in " +
          url.redacted() + ")");
    }
    Options options;
    options.path = url.path();
    const ConnectionOptions connection = take_connection_options(url);
    options.pool_size = connection.pool_size;
    options.pool_timeout = connection.pool_timeout;
    options.connect_timeout = connection.connect_timeout;
    options.command_timeout = connection.command_timeout;
    const SweepOptions sweep = take_sweep_options(url);
    options.sweep_interval = sweep.sweep_interval;
    options.sweep_batch = sweep.sweep_batch;

    if (auto table = url.take("table")) options.table = *table;
    if (auto timeout = url.take_duration("busy_timeout", 0ms, kBusyTimeoutMax)) {
      options.busy_timeout = *timeout;
    }
    options.journal_mode = url.take("journal_mode");
    options.synchronous = url.take("synchronous");
    if (auto mmap = url.take_size("mmap_size")) options.mmap_size = *mmap;
    return options;
  });
}

Options checked(Options options) {
  const bool memory = options.path == kMemoryPath;
  if (options.path.empty()) {
    invalid(
        "a sqlite URL needs a file path (sqlite:data/kv.db, sqlite:/abs/kv.db) or "
        "\":memory:\" (sqlite::memory:)");
  }
  // SQLite takes C strings: it would open the name cut at the NUL (creating
  // that file) and report errors about it. The path is not echoed, since it
  // cannot be printed faithfully.
  if (options.path.find('\0') != std::string::npos) {
    invalid("the database path contains NUL (a %00 in the URL)");
  }
  if (!valid_table_name(options.table)) {
    invalid("table='" + options.table +
            "' is not a valid table name: use letters, digits and '_', start with a "
            "letter or '_', at most 64 bytes, not starting with 'sqlite_'");
  }
  if (is_layout_table(options.table)) {
    invalid("table='" + options.table + "' is reserved: that table records the layout version " +
            "of the file's kvstore tables");
  }
  if (memory && (options.journal_mode || options.synchronous || options.mmap_size != 0)) {
    invalid("journal_mode, synchronous and mmap_size apply to database files, not to :memory:");
  }
  if (options.journal_mode) {
    options.journal_mode = checked_choice("journal_mode", *options.journal_mode, kJournalModes);
  }
  if (options.synchronous) {
    options.synchronous = checked_choice("synchronous", *options.synchronous, kSyncLevels);
  }
  check_param_range(kDriver, "pool_size", options.pool_size, 1, kMaxPoolSize);
  check_param_range(kDriver, "sweep_batch", options.sweep_batch, 1, kMaxSweepBatch);
  check_param_range(kDriver, "busy_timeout", options.busy_timeout, 0ms, kBusyTimeoutMax);
  check_param_range(kDriver, "pool_timeout", options.pool_timeout, 1ms, kLongestTimeout);
  check_param_range(kDriver, "connect_timeout", options.connect_timeout, 1ms, kLongestTimeout);
  check_param_range(kDriver, "command_timeout", options.command_timeout, 1ms, kLongestTimeout);
  check_param_range(kDriver, "sweep_interval", options.sweep_interval, 0ms, kLongestTimeout);
  return options;
}

}  // namespace detail

Options Options::from_url(std::string_view text) {
  return naming_errors(detail::kDriver, [&] {
    Url url = Url::parse(text);
    if (url.scheme() != "sqlite") {
      detail::invalid("not a sqlite URL (scheme '" + url.scheme() + "' in " + url.redacted() + ")");
    }
    // What every store takes, as the registry reads it (registry.cpp).
    StoreSettings store = take_store_settings(url);
    Options options = detail::take_options(url);
    options.store = store;
    url.reject_unknown_params(detail::kDriver);
    return detail::checked(std::move(options));
  });
}

}  // namespace kvstore::sqlite
