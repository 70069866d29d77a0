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
// values (value.h), expiry and metadata (options.h). Invalid input throws
// Error(invalid_argument) or Error(limit_exceeded) and changes nothing.
// Backend failures throw Error naming the driver (error.h); the store stays
// usable and a lost connection is re-established by the next call.
//
// Every call also has an asynchronous form (async_get, ...): it returns at
// once and completes a Callback (callback.h) with a Result (result.h), on a
// store thread, never inside the call itself. Async calls are validated as
// the blocking ones are, but their errors arrive through the callback; each
// has a deadline and may be cancelled (call_options.h). Drivers that block
// run async calls on the store's worker pool (async_workers threads, at
// most async_queue calls waiting: a full queue completes the call with
// Error(limit_exceeded, retryable)); Capabilities::native_async says when a
// driver needs none. Destroying the store completes every pending async call
// with Error(unavailable, not retryable) and joins the store's threads;
// the destructor may run inside one of the store's own callbacks.
// The Asio and coroutine adapters (<kvstore/boost_asio.h>, <kvstore/asio.h>,
// <kvstore/coro.h>) build on these calls; docs/async.md is the guide.
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

#include <kvstore/async_list_cursor.h>
#include <kvstore/bulk.h>
#include <kvstore/call_options.h>
#include <kvstore/callback.h>
#include <kvstore/capabilities.h>
#include <kvstore/error.h>
#include <kvstore/key.h>
#include <kvstore/list_range.h>
#include <kvstore/observer.h>
#include <kvstore/options.h>
#include <kvstore/result.h>
#include <kvstore/value.h>

namespace kvstore {

class Driver;
struct KeyRange;
struct StoredEntry;
struct StoredOptions;
struct StoredWrite;
namespace detail {
class Scheduler;
class WorkerPool;
template <class EntryType>
class AsyncListState;
}  // namespace detail

// How open() configures a store beyond what its driver decides.
struct StoreSettings {
  std::optional<std::size_t> max_value_bytes;  // lower the value size limit (at most 25 MiB)
  std::optional<std::size_t> list_page_size;   // entries per list() round trip (at least 1)
  // Async calls: the default deadline (1ms..1h, default 30s), the worker
  // threads a blocking driver runs them on (1..1024, default 8) and how many
  // may wait for a worker (1..1000000, default 10000).
  std::optional<std::chrono::milliseconds> request_timeout;
  std::optional<std::size_t> async_workers;
  std::optional<std::size_t> async_queue;
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

  // Stores `value` at `key`, replacing any previous value, expiry and
  // metadata with those of `options`.
  void set(const KvKey& key, const Value& value, const SetOptions& options = {});

  // Removes `key`. Removing an absent key is not an error.
  void remove(const KvKey& key);

  // Compare-and-swap. Atomically: if the current value equals `expected`
  // (JSON equality, value.h; std::nullopt means "absent or expired"), replace
  // it with `desired` (std::nullopt means "remove") and return true;
  // otherwise change nothing and return false. `options` (expiry, metadata)
  // apply to the new value only when the swap happens; metadata plays no
  // part in the comparison.
  bool cas(const KvKey& key, const std::optional<Value>& expected,
           const std::optional<Value>& desired, const SetOptions& options = {});

  // The live entries whose keys equal `prefix` or extend it by whole
  // components, in ascending key order, fetched lazily (list_range.h).
  // An empty prefix lists everything.
  // Each Entry carries its metadata and expiry.
  ListRange list(const KvKey& prefix = {}, const ListOptions& options = {});

  // The entry at `key` with its metadata and expiry (the absolute time on
  // the store's clock, to the millisecond), or std::nullopt if it is absent
  // or expired.
  std::optional<Entry> get_entry(const KvKey& key);

  // list() without values: the keys, metadata and expiry of the same
  // entries, with the same ordering, prefix, start_after and limit rules.
  // It never reads values, so it costs per key, not per byte of value.
  KeyListRange list_keys(const KvKey& prefix = {}, const ListOptions& options = {});
  // --- Zero-parse path -----------------------------------------------------
  // The same operations on JSON text, for callers that hold or want the text
  // itself (a cached document served as-is, or parsed by another parser).
  // No nlohmann::json value is built for the value (metadata, when an entry
  // has some, is parsed).

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

  // --- Bulk calls (bulk.h) ---------------------------------------------------
  // Many keys in one call: one backend round trip, or a bounded number of
  // batches. Each call takes at most kMaxBulkEntries keys or entries and is
  // validated whole before any I/O: one bad key, value or TTL throws, and
  // nothing is read or written. A key may appear more than once. The calls
  // are not atomic across keys: a backend failure part way may leave some
  // keys written (docs/semantics.md says which drivers apply them whole).

  // The values at `keys`, in the same order; std::nullopt where a key is
  // absent or expired.
  std::vector<std::optional<Value>> get_many(const std::vector<KvKey>& keys);

  // Stores each entry as set(entry.key, entry.value, entry.options) would.
  // When a key appears more than once, its last entry is the one stored.
  // The entries' JSON text may total at most kMaxBulkBytes.
  void set_many(const std::vector<SetEntry>& entries);

  // Removes each key; absent keys are not an error.
  void remove_many(const std::vector<KvKey>& keys);

  // --- Asynchronous calls ----------------------------------------------------
  // The calls above, completing `done` instead of returning (see the top of
  // this file). Arguments are taken by value: the operation owns them.

  void async_get(KvKey key, Callback<std::optional<Value>> done, CallOptions options = {});
  void async_get_json(KvKey key, Callback<std::optional<std::string>> done,
                      CallOptions options = {});
  void async_set(KvKey key, Value value, SetOptions set_options, Callback<void> done,
                 CallOptions options = {});
  void async_set(KvKey key, Value value, Callback<void> done, CallOptions options = {}) {
    async_set(std::move(key), std::move(value), SetOptions{}, std::move(done), std::move(options));
  }
  void async_set_json(KvKey key, std::string json, SetOptions set_options, Callback<void> done,
                      CallOptions options = {});
  void async_set_json(KvKey key, std::string json, Callback<void> done, CallOptions options = {}) {
    async_set_json(std::move(key), std::move(json), SetOptions{}, std::move(done),
                   std::move(options));
  }
  void async_remove(KvKey key, Callback<void> done, CallOptions options = {});
  // cas() asynchronously: `done` gets true if it swapped. JSON equality as in
  // cas(), over the driver's asynchronous swap.
  void async_cas(KvKey key, std::optional<Value> expected, std::optional<Value> desired,
                 SetOptions set_options, Callback<bool> done, CallOptions options = {});
  void async_cas(KvKey key, std::optional<Value> expected, std::optional<Value> desired,
                 Callback<bool> done, CallOptions options = {}) {
    async_cas(std::move(key), std::move(expected), std::move(desired), SetOptions{},
              std::move(done), std::move(options));
  }
  void async_get_many(std::vector<KvKey> keys, Callback<std::vector<std::optional<Value>>> done,
                      CallOptions options = {});
  void async_set_many(std::vector<SetEntry> entries, Callback<void> done, CallOptions options = {});
  void async_remove_many(std::vector<KvKey> keys, Callback<void> done, CallOptions options = {});

  void async_get_entry(KvKey key, Callback<std::optional<Entry>> done, CallOptions options = {});
  // list() and list_json() as cursors (async_list_cursor.h). An invalid
  // prefix or start_after completes the cursor's first next() with the Error.
  AsyncListCursor async_list(KvKey prefix = {}, ListOptions list_options = {},
                             CallOptions options = {});
  AsyncJsonListCursor async_list_json(KvKey prefix = {}, ListOptions list_options = {},
                                      CallOptions options = {});
  AsyncKeyListCursor async_list_keys(KvKey prefix = {}, ListOptions list_options = {},
                                     CallOptions options = {});
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
  template <class EntryType>
  friend class detail::AsyncListState;

  StoredOptions checked_options(const SetOptions& options) const;
  void check_key(const KvKey& key, bool allow_empty = false) const;
  std::string checked_value_text(const Value& value) const;
  bool swap_json_equal(const KvKey& key, const std::optional<Value>& expected,
                       const std::optional<Value>& desired, const StoredOptions& options);
  // One page of a listing; keys_only: through do_list_keys().
  std::vector<StoredEntry> list_page(const KeyRange& range, std::size_t limit, bool keys_only);
  // Bulk calls: checked, encoded and with repeated keys folded (store.cpp).
  struct BulkKeys {
    std::vector<std::string> unique;  // encoded, in order of first appearance
    std::vector<std::size_t> slot;    // slot[i]: the index in `unique` of keys[i]
  };
  BulkKeys checked_bulk_keys(const std::vector<KvKey>& keys, const char* call) const;
  std::vector<StoredWrite> checked_bulk_writes(const std::vector<SetEntry>& entries) const;
  static void check_bulk_reply(std::size_t got, std::size_t asked, const std::string& driver);
  static std::vector<std::optional<Value>> values_in_order(
      std::vector<std::optional<std::string>> texts, const std::vector<std::size_t>& slot,
      const std::string& driver);

  // The async machinery (store_async.cpp).
  template <class T, class Start>
  void start_async(Operation operation, bool is_write, const CallOptions& options, Callback<T> done,
                   Start&& start);
  template <class T>
  void fail_async(Callback<T>& done, Error error);
  void async_list_page(KeyRange range, std::size_t limit, bool keys_only,
                       const CallOptions& options, Callback<std::vector<StoredEntry>> done);
  template <class EntryType>
  BasicAsyncListCursor<EntryType> make_async_cursor(KvKey prefix, ListOptions list_options,
                                                    CallOptions options);

  // Runs `call`, attaching the driver's name to any Error it throws and
  // reporting it to the observer, if any.
  template <class Call>
  auto observed(Operation operation, Call&& call);

  std::unique_ptr<Driver> driver_;
  std::string driver_name_;
  Capabilities capabilities_;
  std::shared_ptr<Observer> observer_;
  std::chrono::milliseconds request_timeout_{std::chrono::seconds(30)};
  std::unique_ptr<detail::Scheduler> scheduler_;
  std::unique_ptr<detail::WorkerPool> workers_;
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
