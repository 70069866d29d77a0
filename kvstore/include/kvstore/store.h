// KvStore: the key–value store every driver implements.
//
// Obtain one with kvstore::open(url) (registry.h) and share it: a KvStore is
// thread-safe, and one instance is meant to be used by all threads of a
// process. The caller owns it through std::unique_ptr; destroying it closes
// the driver's connections and must not race with calls still in progress.
//
// A store connects lazily: open() parses and checks the URL but does no
// I/O, and the first call (or ping()) connects. A server that is down at
// open() therefore fails the first call, not open(); call ping() at start to
// fail fast.
//
// Every call validates its input once, here, before any I/O: keys (key.h),
// values (value.h) and TTLs (options.h). Invalid input throws
// Error(invalid_argument) or Error(limit_exceeded) and changes nothing.
// Backend failures throw Error naming the driver (error.h); the store stays
// usable and a lost connection is re-established by the next call.
//
// Drivers implement kvstore::Driver (<kvstore/driver.h>), which users never
// need to see.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <kvstore/capabilities.h>
#include <kvstore/error.h>
#include <kvstore/key.h>
#include <kvstore/list_range.h>
#include <kvstore/observer.h>
#include <kvstore/options.h>
#include <kvstore/value.h>

namespace kvstore {

class Driver;
struct KeyRange;
struct StoredEntry;

// How open() configures a store beyond what its driver decides.
struct StoreSettings {
  std::optional<std::size_t> max_value_bytes;  // lower the value size limit (at most 25 MiB)
  std::optional<std::size_t> list_page_size;   // entries per list() round trip (at least 1)
};

class KvStore final {
 public:
  // Wraps a driver. open() does this; a program may also build a driver
  // itself and wrap it. Throws Error(invalid_argument) for bad settings.
  explicit KvStore(std::unique_ptr<Driver> driver, const StoreSettings& settings = {});
  ~KvStore();
  KvStore(const KvStore&) = delete;
  KvStore& operator=(const KvStore&) = delete;

  // The value stored at `key`, or std::nullopt if it is absent or expired.
  std::optional<Value> get(const KvKey& key);

  // get() converted with nlohmann's get<T>(); throws Error(invalid_argument)
  // if the stored value does not convert to T.
  template <class T>
  std::optional<T> get_as(const KvKey& key);

  // Stores `value` at `key`, replacing any previous value and TTL.
  void set(const KvKey& key, const Value& value, const SetOptions& options = {});

  // Removes `key`. Removing an absent key is not an error.
  void remove(const KvKey& key);

  // Compare-and-swap. Atomically: if the current value equals `expected`
  // (JSON equality, value.h; std::nullopt means "absent or expired"), replace
  // it with `desired` (std::nullopt means "remove") and return true;
  // otherwise change nothing and return false. options.ttl applies to the new
  // value only when the swap happens.
  bool cas(const KvKey& key, const std::optional<Value>& expected,
           const std::optional<Value>& desired, const SetOptions& options = {});

  // The live entries whose keys equal `prefix` or extend it by whole
  // components, in ascending key order, fetched lazily (list_range.h).
  // An empty prefix lists everything.
  ListRange list(const KvKey& prefix = {}, const ListOptions& options = {});

  // --- Zero-parse path -----------------------------------------------------
  // The same operations on JSON text, for callers that hold or want the text
  // itself (a cached document served as-is, or parsed by another parser).
  // No nlohmann::json value is built.

  // The stored JSON text at `key`, exactly as it was written (set_json keeps
  // the caller's text byte for byte; set() stores compact text with sorted
  // object members).
  std::optional<std::string> get_json(const KvKey& key);

  // Stores the JSON text `json`. The text is checked to be one valid JSON
  // value (see validate_json_text in value.h) but not parsed into a Value;
  // invalid text throws Error(invalid_argument) and stores nothing.
  void set_json(const KvKey& key, std::string_view json, const SetOptions& options = {});

  // list() with each value as its stored JSON text.
  JsonListRange list_json(const KvKey& prefix = {}, const ListOptions& options = {});

  // --- Operations ----------------------------------------------------------

  // Checks that the backend answers, connecting if need be; throws Error
  // (unavailable, timeout, permission_denied, ...) if it does not.
  void ping();

  // Reports every call to `observer` (observer.h); nullptr removes it. Not
  // thread-safe: set it before sharing the store.
  void set_observer(std::shared_ptr<Observer> observer);

  // --- Introspection -------------------------------------------------------

  // The driver's name: "memory", "sqlite", "redis", "postgres", "mysql", or a
  // custom driver's own.
  const std::string& driver_name() const noexcept { return driver_name_; }
  // Fixed for the store's lifetime.
  const Capabilities& capabilities() const noexcept { return capabilities_; }

 private:
  friend class detail::ListCursor;

  using Ttl = std::optional<std::chrono::milliseconds>;

  Ttl checked_ttl(const SetOptions& options) const;
  void check_key(const KvKey& key, bool allow_empty = false) const;
  std::string checked_value_text(const Value& value) const;
  bool swap_json_equal(const KvKey& key, const std::optional<Value>& expected,
                       const std::optional<Value>& desired, Ttl ttl);
  std::vector<StoredEntry> list_page(const KeyRange& range, std::size_t limit);

  // Runs `call`, attaching the driver's name to any Error it throws and
  // reporting it to the observer, if any.
  template <class Call>
  auto observed(Operation operation, Call&& call);

  std::unique_ptr<Driver> driver_;
  std::string driver_name_;
  Capabilities capabilities_;
  std::shared_ptr<Observer> observer_;
  // Ranges hold a weak_ptr to this; it expires when the store is destroyed.
  std::shared_ptr<const void> alive_ = std::make_shared<char>();
};

template <class T>
std::optional<T> KvStore::get_as(const KvKey& key) {
  std::optional<Value> value = get(key);
  if (!value) return std::nullopt;
  try {
    return value->template get<T>();
  } catch (const nlohmann::json::exception& e) {
    throw Error(ErrorCode::invalid_argument,
                "value at " + to_display_string(key) + " does not convert: " + e.what(),
                driver_name());
  }
}

}  // namespace kvstore
