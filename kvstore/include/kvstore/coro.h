// kvstore::co_* — the async API as awaiters, for any C++20 coroutine type
// that accepts foreign awaitables (Drogon's Task, cppcoro, folly,
// hand-written tasks). Not for asio::awaitable, which accepts only asio's
// own operations: use <kvstore/boost_asio.h> or <kvstore/asio.h> there.
//
//   std::optional<kvstore::Value> v = co_await kvstore::co_get(*store, key);
//   auto cursor = store->async_list({"followers"});
//   while (auto entry = co_await kvstore::co_next(cursor)) use(*entry);
//
// Each co_* call returns an awaiter that owns the arguments; co_await starts
// the call and suspends. The result is returned by co_await, or the
// kvstore::Error is thrown from it.
//
// Threads: the coroutine resumes on a kvstore thread (a worker, reactor or
// timer thread: where the core's Callback runs, callback.h), not on the
// thread that awaited. A coroutine that must continue elsewhere (an event
// loop) should hop there itself; code after co_await should not block for
// long, since it holds up other completions of the store.
//
// Lifetime: the KvStore (and the cursor for co_next) must outlive the
// co_await; an awaiter must be awaited at most once. A coroutine that is
// destroyed while suspended in one of these awaits is undefined behaviour,
// as for any callback-resumed awaiter.
#pragma once

#include <coroutine>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <kvstore/store.h>

namespace kvstore {

namespace detail {

// Awaits `start(Callback<T>)`, which must complete the callback exactly once
// and never inside the call (the core's rule), so await_suspend never
// resumes the coroutine itself.
template <class T, class Start>
class Awaiter {
 public:
  explicit Awaiter(Start start) : start_(std::move(start)) {}

  bool await_ready() const noexcept { return false; }

  void await_suspend(std::coroutine_handle<> coroutine) {
    // The callback may resume (and destroy) this awaiter on another thread
    // before start() returns: nothing of *this is touched after it.
    Start start = std::move(start_);
    start(Callback<T>([this, coroutine](Result<T> result) mutable {
      result_.emplace(std::move(result));
      coroutine.resume();
    }));
  }

  T await_resume() {
    if constexpr (std::is_void_v<T>) {
      result_->value();
    } else {
      return std::move(*result_).value();
    }
  }

 private:
  Start start_;
  std::optional<Result<T>> result_;
};

template <class T, class Start>
Awaiter<T, Start> make_awaiter(Start start) {
  return Awaiter<T, Start>(std::move(start));
}

}  // namespace detail

// -> std::optional<Value>
inline auto co_get(KvStore& store, KvKey key, CallOptions options = {}) {
  return detail::make_awaiter<std::optional<Value>>(
      [&store, key = std::move(key), options = std::move(options)](auto done) mutable {
        store.async_get(std::move(key), std::move(done), std::move(options));
      });
}

// -> std::optional<std::string>: the stored JSON text.
inline auto co_get_json(KvStore& store, KvKey key, CallOptions options = {}) {
  return detail::make_awaiter<std::optional<std::string>>(
      [&store, key = std::move(key), options = std::move(options)](auto done) mutable {
        store.async_get_json(std::move(key), std::move(done), std::move(options));
      });
}

// -> void
inline auto co_set(KvStore& store, KvKey key, Value value, SetOptions set_options = {},
                   CallOptions options = {}) {
  return detail::make_awaiter<void>([&store, key = std::move(key), value = std::move(value),
                                     set_options, options = std::move(options)](auto done) mutable {
    store.async_set(std::move(key), std::move(value), set_options, std::move(done),
                    std::move(options));
  });
}

// -> void
inline auto co_set_json(KvStore& store, KvKey key, std::string json, SetOptions set_options = {},
                        CallOptions options = {}) {
  return detail::make_awaiter<void>([&store, key = std::move(key), json = std::move(json),
                                     set_options, options = std::move(options)](auto done) mutable {
    store.async_set_json(std::move(key), std::move(json), set_options, std::move(done),
                         std::move(options));
  });
}

// -> void
inline auto co_remove(KvStore& store, KvKey key, CallOptions options = {}) {
  return detail::make_awaiter<void>(
      [&store, key = std::move(key), options = std::move(options)](auto done) mutable {
        store.async_remove(std::move(key), std::move(done), std::move(options));
      });
}

// -> bool: true if it swapped.
inline auto co_cas(KvStore& store, KvKey key, std::optional<Value> expected,
                   std::optional<Value> desired, SetOptions set_options = {},
                   CallOptions options = {}) {
  return detail::make_awaiter<bool>([&store, key = std::move(key), expected = std::move(expected),
                                     desired = std::move(desired), set_options,
                                     options = std::move(options)](auto done) mutable {
    store.async_cas(std::move(key), std::move(expected), std::move(desired), set_options,
                    std::move(done), std::move(options));
  });
}

// -> std::optional<Entry>: value, metadata and expiry.
inline auto co_get_entry(KvStore& store, KvKey key, CallOptions options = {}) {
  return detail::make_awaiter<std::optional<Entry>>(
      [&store, key = std::move(key), options = std::move(options)](auto done) mutable {
        store.async_get_entry(std::move(key), std::move(done), std::move(options));
      });
}

// -> std::vector<std::optional<Value>>, in the order of `keys`.
inline auto co_get_many(KvStore& store, std::vector<KvKey> keys, CallOptions options = {}) {
  return detail::make_awaiter<std::vector<std::optional<Value>>>(
      [&store, keys = std::move(keys), options = std::move(options)](auto done) mutable {
        store.async_get_many(std::move(keys), std::move(done), std::move(options));
      });
}

// -> void
inline auto co_set_many(KvStore& store, std::vector<SetEntry> entries, CallOptions options = {}) {
  return detail::make_awaiter<void>(
      [&store, entries = std::move(entries), options = std::move(options)](auto done) mutable {
        store.async_set_many(std::move(entries), std::move(done), std::move(options));
      });
}

// -> void
inline auto co_remove_many(KvStore& store, std::vector<KvKey> keys, CallOptions options = {}) {
  return detail::make_awaiter<void>(
      [&store, keys = std::move(keys), options = std::move(options)](auto done) mutable {
        store.async_remove_many(std::move(keys), std::move(done), std::move(options));
      });
}

// -> std::optional<EntryType>: the cursor's next entry, std::nullopt at the end.
template <class EntryType>
auto co_next(BasicAsyncListCursor<EntryType>& cursor) {
  return detail::make_awaiter<std::optional<EntryType>>(
      [&cursor](auto done) mutable { cursor.next(std::move(done)); });
}

}  // namespace kvstore
