// KvStore: the key–value store every driver implements.
//
// Obtain one with kvstore::open(url) (registry.h) and share it: a KvStore is
// thread-safe, and one instance is meant to be used by all threads of a
// process. The caller owns it through std::unique_ptr; destroying it closes
// the driver's connections and must not race with calls still in progress.
//
// Every call validates its input once, here, before any I/O: keys (key.h),
// values (value.h) and TTLs. Invalid input throws Error(invalid_argument) or
// Error(limit_exceeded) and changes nothing. Backend failures throw Error with
// the driver's name (error.h); the store stays usable and a lost connection is
// re-established by the next call.
//
// Writing a driver: derive from KvStore and implement the protected do_*
// members. They receive validated, encoded keys (key_encoding.h) and JSON
// text; the core does parsing, serialization, JSON equality and paging.
// See docs/custom-driver.md.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <kvstore/error.h>
#include <kvstore/key.h>
#include <kvstore/key_encoding.h>
#include <kvstore/list_range.h>
#include <kvstore/options.h>
#include <kvstore/value.h>

namespace kvstore {

// What a store is and offers. Fixed for the store's lifetime.
struct Capabilities {
  bool persistent = false;    // data outlives the KvStore object
  bool shared = false;        // other processes (or machines) see the same data
  bool server_clock = false;  // TTLs are measured on a server's clock, not this process's
  std::size_t max_key_bytes = kMaxKeyBytes;
  std::size_t max_value_bytes = kDefaultMaxValueBytes;  // serialized JSON text
  std::size_t list_page_size = 256;  // entries fetched per backend round trip by list()
};

class KvStore {
 public:
  virtual ~KvStore();
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

  // --- Introspection -------------------------------------------------------

  // The driver's name: "memory", "sqlite", "redis", "postgres", "mysql", or a
  // custom driver's own.
  const std::string& driver_name() const noexcept { return driver_name_; }
  const Capabilities& capabilities() const noexcept { return capabilities_; }

  // Lowers the maximum serialized value size (it can never exceed
  // kDefaultMaxValueBytes). Not thread-safe: call before sharing the store.
  void set_max_value_bytes(std::size_t bytes);
  // Sets how many entries list() fetches per round trip (at least 1).
  // Not thread-safe: call before sharing the store.
  void set_list_page_size(std::size_t entries);

 protected:
  KvStore(std::string driver_name, Capabilities capabilities);

  using Ttl = std::optional<std::chrono::milliseconds>;

  // The driver interface. Keys are encoded (key_encoding.h) and valid; JSON
  // text is valid. Every member may be called from many threads at once.
  // An entry whose TTL has passed must behave as absent at once in all of
  // them, even if it is still physically present.

  // The stored JSON text, or std::nullopt if absent or expired.
  virtual std::optional<std::string> do_get(const std::string& key) = 0;
  // Stores `json`, replacing any previous value and TTL (ttl: positive or none).
  virtual void do_set(const std::string& key, std::string_view json, Ttl ttl) = 0;
  virtual void do_remove(const std::string& key) = 0;
  // Atomically, compare stored JSON *text* byte for byte: if (expected is
  // nullopt and the key is absent or expired) or (expected equals the live
  // stored text), then store `desired` with `ttl` (or remove the key if
  // desired is nullopt) and return true; otherwise return false. The core
  // builds JSON-equality cas() on top of this.
  virtual bool do_swap(const std::string& key, std::optional<std::string_view> expected,
                       std::optional<std::string_view> desired, Ttl ttl) = 0;
  // Up to `limit` (>= 1) live entries with keys in `range`, in ascending
  // byte order of the encoded key. Returning fewer than `limit` entries
  // means there are no more live entries in the range.
  virtual std::vector<StoredEntry> do_list(const KeyRange& range, std::size_t limit) = 0;

  // Throws Error(code, message) naming this driver.
  [[noreturn]] void fail(ErrorCode code, std::string message) const;

 private:
  friend class detail::ListCursor;

  Ttl checked_ttl(const SetOptions& options) const;
  void check_key(const KvKey& key, bool allow_empty = false) const;
  std::string checked_value_text(const Value& value) const;

  std::string driver_name_;
  Capabilities capabilities_;
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
