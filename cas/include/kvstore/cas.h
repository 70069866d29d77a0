// Compare-and-swap recipes built on KvStore::cas(). They work with every
// driver, and across processes and machines sharing a server-backed store.
//
// Each recipe retries while another writer changes the key between its read
// and its swap; past `max_attempts` rounds it throws Error(conflict), which
// is retryable. Errors from the store propagate unchanged.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include <kvstore/store.h>

namespace kvstore::recipes {

inline constexpr int kDefaultMaxAttempts = 1000;

// Atomically replaces the value at `key` with `fn(current)`, where current is
// std::nullopt if the key is absent or expired. fn returning std::nullopt
// removes the key. fn may run several times, so it must have no side effects.
// Returns what fn returned in the round that won. options.ttl applies to the
// written value.
std::optional<Value> update(KvStore& store, const KvKey& key,
                            const std::function<std::optional<Value>(const std::optional<Value>&)>& fn,
                            const SetOptions& options = {}, int max_attempts = kDefaultMaxAttempts);

// Stores `value` only if `key` is absent or expired. Returns true if it did.
// The building block for idempotence markers and nonce consumption.
bool set_if_absent(KvStore& store, const KvKey& key, const Value& value,
                   const SetOptions& options = {});

// Adds `delta` to the integer at `key` (absent counts as 0) and returns the
// new value. Throws Error(invalid_argument) if the stored value is not an
// integer, and Error(limit_exceeded) on signed 64-bit overflow.
std::int64_t increment(KvStore& store, const KvKey& key, std::int64_t delta = 1,
                       const SetOptions& options = {}, int max_attempts = kDefaultMaxAttempts);

// A lease: a lock with an expiry, held by the owner of a random token.
// Whoever holds the token may renew or release it; if the holder dies the
// lease expires after its TTL and another owner may acquire it.
//
//   kvstore::recipes::Lease lease(*store, {"locks", "fetch", url}, std::chrono::seconds(30));
//   if (lease.try_acquire()) { ...work...; lease.release(); }
//
// A Lease object is not thread-safe; the store it refers to must outlive it.
// Destroying a Lease does not release it (it expires), so a crash and a
// forgotten release behave alike.
class Lease {
 public:
  Lease(KvStore& store, KvKey key, std::chrono::milliseconds ttl);

  // Takes the lease if nobody holds it. Returns true on success.
  bool try_acquire();
  // Extends a held lease by its TTL from now. Returns false if it was lost
  // (expired and possibly taken by someone else).
  bool renew();
  // Gives the lease up. Returns false if it was no longer ours.
  bool release();

  const std::string& token() const noexcept { return token_; }

 private:
  KvStore* store_;
  KvKey key_;
  std::chrono::milliseconds ttl_;
  std::string token_;
};

}  // namespace kvstore::recipes
