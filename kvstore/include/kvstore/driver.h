// The driver kit: what a driver author writes against.
//
// A driver is a subclass of kvstore::Driver plus a factory registered for
// its URL schemes (kvstore::register_driver, registry.h). Users never see a
// Driver: open() wraps it in a KvStore, which validates every argument once
// before calling the driver, turns values into JSON text and back, builds
// JSON-equality cas() on the driver's byte-exact swap, pages listings,
// attaches the driver's name to every Error and reports calls to the
// observer. A driver is then a small ordered map from encoded keys to JSON
// text with TTLs; docs/custom-driver.md walks through one.
//
// The factory parses its URL parameters (Url::take_*, and the shared ones
// with take_connection_options/take_sweep_options) and constructs the
// driver without any I/O: the registry rejects unknown parameters after the
// factory returns, and a store connects on its first call (or ping()).
//
// Shared machinery for server drivers, so that every driver behaves alike:
//   <kvstore/driver/connection_pool.h>  bounded pool, finite wait, RAII lease
//   <kvstore/driver/retry.h>            the retry rule and error classifier
//   <kvstore/driver/sweep_throttle.h>   when a write may sweep expired rows
//   <kvstore/driver/shared_params.h>    pool_size, pool_timeout, connect_timeout, ...
//   <kvstore/deadline.h>                saturating deadline arithmetic
#pragma once

#include <chrono>
#include <cstddef>
#include <initializer_list>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include <kvstore/bulk.h>
#include <kvstore/callback.h>
#include <kvstore/capabilities.h>
#include <kvstore/deadline.h>
#include <kvstore/driver/connection_pool.h>
#include <kvstore/driver/retry.h>
#include <kvstore/driver/shared_params.h>
#include <kvstore/driver/sweep_throttle.h>
#include <kvstore/error.h>
#include <kvstore/key_encoding.h>
#include <kvstore/registry.h>
#include <kvstore/url.h>

namespace kvstore {

// What a write stores besides its JSON text: SetOptions as a driver sees
// them, checked. At most one of ttl and expires_at is set; neither means the
// entry never expires.
struct StoredOptions {
  // In (0, kMaxTtl], counted from the write on the backend's own clock.
  std::optional<std::chrono::milliseconds> ttl;
  // Absolute, in whole milliseconds; it was in the future and at most kMaxTtl
  // ahead when the call was made (it may have passed by the time the driver
  // runs: the entry is then expired at once).
  std::optional<Clock::time_point> expires_at = std::nullopt;
  // Valid JSON text of at most kMaxMetadataBytes, or none. "null" is
  // metadata; std::nullopt is its absence, and the two must stay apart.
  std::optional<std::string> metadata = std::nullopt;

  bool expires() const noexcept { return ttl.has_value() || expires_at.has_value(); }
};

// One stored entry as a driver reads it: the encoded key, the JSON text, the
// metadata text as written, and when it expires as an absolute time on the
// backend's clock (a TTL write reports the time it computed from that
// clock). In a keys-only listing (do_list_keys) `json` is left empty.
struct StoredEntry {
  std::string key;
  std::string json;
  std::optional<std::string> metadata = std::nullopt;
  std::optional<Clock::time_point> expires_at = std::nullopt;
};

// One write of a bulk set: the encoded key, valid JSON text and its options.
struct StoredWrite {
  std::string key;
  std::string json;
  StoredOptions options = {};
};

namespace detail {
class PendingCall;
class WorkerPool;
}  // namespace detail

// What an asynchronous driver call knows besides its arguments.
class AsyncContext {
 public:
  // When the store gives up on the call (it then completes it with
  // Error(timeout) itself, whatever the driver does later).
  std::chrono::steady_clock::time_point deadline() const noexcept { return deadline_; }
  // Stop is requested once the call no longer needs doing: cancelled, past
  // its deadline, or the store closing. A driver may then abandon the work;
  // it still calls `done` (the result is ignored).
  const std::stop_token& stop_token() const noexcept { return stop_; }
  // Says the request may reach the backend from now on: a write that times
  // out or is cancelled afterwards reports Error::outcome_unknown().
  void mark_sent() const noexcept;

  AsyncContext(std::shared_ptr<detail::PendingCall> call,
               std::chrono::steady_clock::time_point deadline, std::stop_token stop)
      : call_(std::move(call)), deadline_(deadline), stop_(std::move(stop)) {}

 private:
  std::shared_ptr<detail::PendingCall> call_;
  std::chrono::steady_clock::time_point deadline_;
  std::stop_token stop_;
};

class Driver {
 public:
  virtual ~Driver();
  Driver(const Driver&) = delete;
  Driver& operator=(const Driver&) = delete;

  // "memory", "sqlite", ...: named in every Error the store raises.
  const std::string& name() const noexcept { return name_; }
  const Capabilities& capabilities() const noexcept { return capabilities_; }

  // The contract. Keys are encoded (key_encoding.h) and valid; write options
  // are checked (StoredOptions); JSON text is valid and never holds a NUL
  // byte. Every member
  // may be called from many threads at once. An entry whose TTL has passed
  // must behave as absent at once in all of them, even while it is still
  // physically present. Failures throw kvstore::Error (the store adds the
  // driver's name if the Error has none).

  // The stored JSON text, or std::nullopt if absent or expired.
  virtual std::optional<std::string> do_get(const std::string& key) = 0;
  // Stores `json` with `options`, replacing any previous value, expiry and
  // metadata.
  virtual void do_set(const std::string& key, std::string_view json,
                      const StoredOptions& options) = 0;
  virtual void do_remove(const std::string& key) = 0;
  // Atomically, comparing stored JSON *text* byte for byte: if (expected is
  // nullopt and the key is absent or expired) or (expected equals the live
  // stored text), store `desired` with `options` (or remove the key if
  // desired is nullopt) and return true; otherwise change nothing and return
  // false. The store builds JSON-equality cas() on top of this.
  virtual bool do_swap(const std::string& key, std::optional<std::string_view> expected,
                       std::optional<std::string_view> desired, const StoredOptions& options) = 0;
  // Up to `limit` (>= 1) live entries with keys in `range`, ascending by
  // encoded key (plain byte order), each with its metadata and expiry.
  // Fewer than `limit` entries means there are no more live entries in the
  // range.
  virtual std::vector<StoredEntry> do_list(const KeyRange& range, std::size_t limit) = 0;
  // The live entry at `key` with its metadata and expiry (its `key` member
  // may be left empty), or std::nullopt. The default lists the one-key range.
  virtual std::optional<StoredEntry> do_get_entry(const std::string& key);
  // do_list() without the values: `json` left empty. A driver overrides it
  // so that a keys-only listing never reads values; the default calls
  // do_list() and drops them.
  virtual std::vector<StoredEntry> do_list_keys(const KeyRange& range, std::size_t limit);
  // Checks that the backend answers (connecting if need be); throws Error
  // if it does not. The default reads one key.
  virtual void do_ping();

  // --- Parsed reads (optional) ---
  // A driver that keeps stored values parsed (the memory driver) may hand
  // get() a copy of the Value instead of text, saving the parse. Return
  // false (the default) to have get() call do_get() and parse; otherwise set
  // `out` to the live value (std::nullopt if absent or expired) and `bytes`
  // to the size of its stored JSON text, and return true. The value must be
  // exactly parse_stored_json() of the stored text.
  virtual bool do_get_value(const std::string& key, std::optional<Value>& out, std::size_t& bytes);
  // The same for get_many(): `out` gets one value per key, in order, and
  // `bytes` the size of their text.
  virtual bool do_get_many_values(const std::vector<std::string>& keys,
                                  std::vector<std::optional<Value>>& out, std::size_t& bytes);

  // --- Bulk calls (optional) ----------------------------------------------
  // The store hands these at most kMaxBulkEntries (bulk.h) distinct, valid
  // keys, never an empty batch. The defaults call the single-key members
  // once per key; a driver overrides them to batch (one round trip, or a
  // bounded number for a backend's request size limit). They need not be
  // atomic; a failure part way throws, with some keys possibly done.

  // The stored JSON text of each key, in the order of `keys`.
  virtual std::vector<std::optional<std::string>> do_get_many(const std::vector<std::string>& keys);
  // As do_set() for each write.
  virtual void do_set_many(const std::vector<StoredWrite>& writes);
  // As do_remove() for each key.
  virtual void do_remove_many(const std::vector<std::string>& keys);

  // --- Asynchronous counterparts ------------------------------------------
  // The same contract, completing `done` instead of returning or throwing.
  // `done` runs exactly once, on any thread; if a driver calls it inside the
  // do_async_* call itself, the store defers it. The defaults run the
  // blocking member on the store's worker pool, so every driver is
  // asynchronous; a driver with its own event loop overrides all of them
  // and sets Capabilities::native_async.
  virtual void do_async_get(std::string key, Callback<std::optional<std::string>> done,
                            AsyncContext context);
  virtual void do_async_set(std::string key, std::string json, StoredOptions options,
                            Callback<void> done, AsyncContext context);
  virtual void do_async_remove(std::string key, Callback<void> done, AsyncContext context);
  virtual void do_async_swap(std::string key, std::optional<std::string> expected,
                             std::optional<std::string> desired, StoredOptions options,
                             Callback<bool> done, AsyncContext context);
  virtual void do_async_list(KeyRange range, std::size_t limit,
                             Callback<std::vector<StoredEntry>> done, AsyncContext context);
  virtual void do_async_get_entry(std::string key, Callback<std::optional<StoredEntry>> done,
                                  AsyncContext context);
  virtual void do_async_list_keys(KeyRange range, std::size_t limit,
                                  Callback<std::vector<StoredEntry>> done, AsyncContext context);
  virtual void do_async_get_many(std::vector<std::string> keys,
                                 Callback<std::vector<std::optional<std::string>>> done,
                                 AsyncContext context);
  virtual void do_async_set_many(std::vector<StoredWrite> writes, Callback<void> done,
                                 AsyncContext context);
  virtual void do_async_remove_many(std::vector<std::string> keys, Callback<void> done,
                                    AsyncContext context);

 protected:
  Driver(std::string name, Capabilities capabilities);

  // Throws Error(code, message) naming this driver.
  [[noreturn]] void fail(ErrorCode code, std::string message) const;

 private:
  friend class KvStore;
  // Runs `work` on the store's worker pool and completes `done` with it.
  template <class T, class Work>
  void run_on_workers(Callback<T> done, AsyncContext context, Work work);

  std::string name_;
  Capabilities capabilities_;
  detail::WorkerPool* workers_ = nullptr;  // the store's; set when a KvStore wraps the driver
};

namespace detail {
// Called by the registration code kvstore_add_driver() generates for each
// built-in driver (CMake), before main().
bool register_builtin_driver(std::initializer_list<std::string_view> schemes,
                             std::unique_ptr<Driver> (*factory)(Url&));
}  // namespace detail

}  // namespace kvstore
