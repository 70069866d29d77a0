// Backends: what a workload runs against. One Backend per measured target —
// a kvstore URL (through kvstore::open) or a raw client library doing the
// simplest equivalent commands — and one Session per worker thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <kvstore/kvstore.h>

namespace kvbench {

using kvstore::KvKey;
using kvstore::Value;
using Ttl = std::optional<std::chrono::milliseconds>;

// How values cross the API.
//   json: kvstore's JSON calls (get/set/cas/list) vs the raw client plus
//         nlohmann::json::parse on every read and dump on every write;
//   text: kvstore's zero-parse calls (get_json/set_json/list_json) vs the raw
//         client passing the JSON text through as bytes.
enum class Mode { json, text };
const char* to_string(Mode mode);

// get_many and set_many are one bulk call each (kvstore's get_many/set_many);
// list_keys is a keys-only listing (kvstore's list_keys).
enum class OpKind { get, set, cas, list, get_many, set_many, list_keys };
inline constexpr int kOpKinds = 7;
inline constexpr OpKind kAllOps[] = {OpKind::get,      OpKind::set,      OpKind::cas,
                                     OpKind::list,     OpKind::get_many, OpKind::set_many,
                                     OpKind::list_keys};
const char* to_string(OpKind op);

// One document in both forms, built once: `text` is value.dump(), which is
// also the text kvstore stores for `value` (compact, sorted members).
struct Doc {
  Value value;
  std::string text;
  Doc() = default;
  explicit Doc(Value v) : value(std::move(v)), text(value.dump()) {}
};

// Per-thread access to a backend. Created and destroyed on the thread that
// uses it. Every call may throw (kvstore::Error or the client's exception).
class Session {
 public:
  virtual ~Session() = default;
  // Reads `key`; the value is parsed (json mode) or kept as text, as a real
  // caller would. Returns whether it was found.
  virtual bool get(const KvKey& key) = 0;
  // Reads `key` and returns the parsed value (used where the workload needs it).
  virtual std::optional<Value> get_value(const KvKey& key) = 0;
  virtual void set(const KvKey& key, const Doc& doc, Ttl ttl) = 0;
  // Compare-and-swap; nullptr means absent (expected) or remove (desired).
  virtual bool cas(const KvKey& key, const Doc* expected, const Doc* desired, Ttl ttl) = 0;
  // Reads every entry under `prefix` page by page; returns how many.
  virtual std::size_t list(const KvKey& prefix) = 0;
  // One bulk read of `keys` (parsed or kept as text per mode); returns how
  // many were found. Only where Backend::supports(OpKind::get_many).
  virtual std::size_t get_many(const std::vector<KvKey>& keys);
  // One bulk write of keys[i] = *docs[i]. Only where supports(OpKind::set_many).
  virtual void set_many(const std::vector<KvKey>& keys, const std::vector<const Doc*>& docs,
                        Ttl ttl);
  // Reads the keys (with metadata and expiry, no values) under `prefix`;
  // returns how many. Only where supports(OpKind::list_keys).
  virtual std::size_t list_keys(const KvKey& prefix);
  // Writes entries [begin, end) produced by `item` (preloading; not timed).
  // The default calls set() for each; raw SQL backends batch in transactions.
  using ItemFn = std::function<void(std::size_t, KvKey&, const Doc*&)>;
  virtual void load(std::size_t begin, std::size_t end, const ItemFn& item, Ttl ttl);
};

// Asynchronous access to a backend, for the --inflight modes: each call
// returns at once and completes `done` exactly once, on a thread of the
// backend's own (for kvstore, one of the store's threads), never inside the
// call. Errors arrive as an exception_ptr, never as a throw from the call.
// One AsyncSession serves all slots of a run: its calls are thread-safe.
// Keys and documents are copied by the call (the caller may drop them at once).
class AsyncSession {
 public:
  template <class T>
  using Done = std::function<void(std::exception_ptr, T)>;
  using DoneVoid = std::function<void(std::exception_ptr)>;

  virtual ~AsyncSession() = default;
  // As Session::get: whether the key was found (parsed or kept as text per mode).
  virtual void get(const KvKey& key, Done<bool> done) = 0;
  virtual void get_value(const KvKey& key, Done<std::optional<Value>> done) = 0;
  virtual void set(const KvKey& key, const Doc& doc, Ttl ttl, DoneVoid done) = 0;
  virtual void cas(const KvKey& key, const Doc* expected, const Doc* desired, Ttl ttl,
                   Done<bool> done) = 0;
  // Pulls every entry under `prefix` through the async cursor; `done` gets how many.
  virtual void list(const KvKey& prefix, Done<std::size_t> done) = 0;
  // As Session::get_many and set_many.
  virtual void get_many(const std::vector<KvKey>& keys, Done<std::size_t> done);
  virtual void set_many(const std::vector<KvKey>& keys, const std::vector<const Doc*>& docs,
                        Ttl ttl, DoneVoid done);
  virtual void list_keys(const KvKey& prefix, Done<std::size_t> done);
};

class Backend {
 public:
  virtual ~Backend() = default;
  // "memory", "sqlite", "raw-sqlite", ...
  virtual std::string name() const = 0;
  // The kvstore driver this measures or is the baseline for: "sqlite", ...
  virtual std::string driver() const = 0;
  virtual bool raw() const = 0;
  // The redacted URL, for the report.
  virtual std::string where() const = 0;
  // The bulk calls and the keys-only listing are kvstore's own: the raw
  // baselines have none.
  virtual bool supports(OpKind op) const {
    return op != OpKind::get_many && op != OpKind::set_many && op != OpKind::list_keys;
  }
  // Called before each workload: raw backends recreate their table (or delete
  // their keys); kvstore backends reopen the store.
  virtual void reset() {}
  // A new session for the calling thread.
  virtual std::unique_ptr<Session> session(Mode mode) = 0;
  // The async API, or nullptr when the backend has none (the raw clients).
  virtual std::unique_ptr<AsyncSession> async_session(Mode mode) {
    (void)mode;
    return nullptr;
  }
};

// kvstore::open(url). Throws kvstore::Error (e.g. unsupported) if it cannot open.
// `observed`: with a counting kvstore::Observer installed (named "<driver>+observer").
std::unique_ptr<Backend> make_kvstore_backend(const std::string& url, bool observed = false);

// The raw baseline for `driver` (sqlite, redis, postgres, mysql) against the
// server or file `url` names. Throws std::runtime_error if this build has no
// such baseline (its library or driver option was off).
std::unique_ptr<Backend> make_raw_backend(const std::string& driver, const std::string& url);
// Which raw baselines this build has.
bool raw_backend_built(const std::string& driver);

// The driver a URL scheme belongs to ("" if unknown).
std::string driver_for_scheme(const std::string& scheme);

}  // namespace kvbench
