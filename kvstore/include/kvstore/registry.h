// The driver registry and the URL factory.
//
// Every driver, built-in or custom, is reached through one registry keyed by
// URL scheme. open() parses the URL, takes the parameters every store shares,
// hands the rest to the driver's factory, rejects whatever parameters the
// driver did not take, and wraps the driver in a KvStore. No I/O happens
// before all parameters have been checked, and none in open() itself: the
// store connects on its first call (KvStore::ping() checks at once).
//
// Parameters every store accepts:
//   max_value_size=<size>  lower the maximum serialized value size (default 25MiB)
//   list_page_size=<n>     entries fetched per round trip by list() (default 256)
//
// The registry is thread-safe. Built-in drivers compiled into this build are
// registered before the first call returns.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <kvstore/store.h>

namespace kvstore {

class Driver;  // <kvstore/driver.h>
class Url;     // <kvstore/url.h>

// Builds a driver from a parsed URL without doing any I/O. It takes the
// query parameters it understands from `url` (Url::take_*) and throws
// kvstore::Error for a bad one; the registry rejects whatever is left.
using DriverFactory = std::function<std::unique_ptr<Driver>(Url& url)>;

// Opens the store `url` names, e.g. "memory:", "sqlite:data/kv.db",
// "redis://localhost:6379/0?prefix=app", "postgresql://user@host/db".
// Throws Error(invalid_argument) for a malformed URL or unknown parameter,
// Error(unsupported) for a scheme that is unknown or not compiled into this
// build. The returned store is owned by the caller.
std::unique_ptr<KvStore> open(std::string_view url);

// Makes open() route `scheme` (case-insensitive, without ':') to `factory`.
// Throws Error(invalid_argument) if the scheme is already registered.
void register_driver(std::string_view scheme, DriverFactory factory);

// Removes a registration; returns false if there was none.
bool unregister_driver(std::string_view scheme);

// The schemes open() accepts in this process, sorted.
std::vector<std::string> registered_schemes();

}  // namespace kvstore
