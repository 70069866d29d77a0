// conformance::Store: each call through the API the run selected.
#include <future>
#include <thread>
#include <utility>  // before <boost/asio/awaitable.hpp> with GCC 12 and Boost 1.74

#if defined(KVSTORE_CONFORMANCE_ASIO)
#include <kvstore/boost_asio.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#endif

#include "fixture.h"

namespace conformance {

namespace {

const std::thread::id main_thread = std::this_thread::get_id();

// Starts an async call and waits for its Result.
template <class T, class Start>
T wait_for(Start&& start) {
  std::promise<kvstore::Result<T>> promise;
  std::future<kvstore::Result<T>> future = promise.get_future();
  start([&promise](kvstore::Result<T> result) { promise.set_value(std::move(result)); });
  if constexpr (std::is_void_v<T>) {
    future.get().value();
  } else {
    return std::move(future.get()).value();
  }
}

template <class EntryType, class Cursor>
typename Listing<EntryType>::Pull pull_from(Cursor cursor) {
  auto shared = std::make_shared<Cursor>(std::move(cursor));
  return [shared]() -> std::optional<EntryType> {
    return wait_for<std::optional<EntryType>>([&](auto done) { shared->next(std::move(done)); });
  };
}

template <class EntryType, class Range>
typename Listing<EntryType>::Pull pull_from_range(Range range) {
  struct State {
    Range range;
    std::optional<typename Range::iterator> it;
  };
  auto state = std::make_shared<State>(State{std::move(range), std::nullopt});
  return [state]() -> std::optional<EntryType> {
    if (!state->it) {
      state->it = state->range.begin();
    } else {
      ++*state->it;
    }
    if (*state->it == state->range.end()) return std::nullopt;
    return **state->it;
  };
}

#if defined(KVSTORE_CONFORMANCE_ASIO)
namespace net = boost::asio;

// One io_context, run by one thread for the whole test run.
net::io_context& loop() {
  struct Loop {
    net::io_context io;
    net::executor_work_guard<net::io_context::executor_type> work{io.get_executor()};
    std::thread thread{[this] { io.run(); }};
    ~Loop() {
      work.reset();
      thread.join();
    }
  };
  static Loop instance;
  return instance.io;
}

// Waits until every handler queued on the loop before now has returned.
void drain_loop() {
  std::promise<void> drained;
  net::post(loop(), [&drained] { drained.set_value(); });
  drained.get_future().wait();
}

// Runs `body(adapter)` as a coroutine on the loop and waits for its result.
template <class T, class Body>
T through_asio(const std::shared_ptr<kvstore::KvStore>& kv, Body body) {
  std::promise<T> promise;
  net::co_spawn(
      loop(),
      [&]() -> net::awaitable<void> {
        kvstore::boost_asio::store adapter(kv, co_await net::this_coro::executor);
        try {
          if constexpr (std::is_void_v<T>) {
            co_await body(adapter);
            promise.set_value();
          } else {
            promise.set_value(co_await body(adapter));
          }
        } catch (...) {
          promise.set_exception(std::current_exception());
        }
      },
      net::detached);
  std::future<T> result = promise.get_future();
  result.wait();
  // The completion handler that resumed the coroutine, and the coroutine's
  // frame, hold references to the store until they return. Were one of them
  // the last, the loop thread would close the store, possibly after main()
  // returned and past OpenSSL's exit-time cleanup (LeakSanitizer then reports
  // libpq's per-thread state). Let them return first.
  drain_loop();
  return result.get();
}

template <class EntryType, class Cursor>
typename Listing<EntryType>::Pull pull_through_asio(std::shared_ptr<kvstore::KvStore> kv,
                                                    Cursor cursor) {
  auto shared = std::make_shared<Cursor>(std::move(cursor));
  return [kv, shared]() -> std::optional<EntryType> {
    return through_asio<std::optional<EntryType>>(
        kv, [shared](auto&) { return shared->async_next(net::use_awaitable); });
  };
}
#endif

}  // namespace

bool Store::use_async() const {
  if (api() == Api::blocking) return false;
  if (std::this_thread::get_id() == main_thread) return true;
  thread_local unsigned calls = 0;
  return ++calls % 2 == 0;
}

std::optional<kvstore::Value> Store::get(const kvstore::KvKey& key) {
  if (!use_async()) return kv_->get(key);
#if defined(KVSTORE_CONFORMANCE_ASIO)
  if (api() == Api::asio) {
    return through_asio<std::optional<kvstore::Value>>(
        kv_, [&](auto& a) { return a.async_get(key, net::use_awaitable); });
  }
#endif
  return wait_for<std::optional<kvstore::Value>>(
      [&](auto done) { kv_->async_get(key, std::move(done)); });
}

std::optional<std::string> Store::get_json(const kvstore::KvKey& key) {
  if (!use_async()) return kv_->get_json(key);
#if defined(KVSTORE_CONFORMANCE_ASIO)
  if (api() == Api::asio) {
    return through_asio<std::optional<std::string>>(
        kv_, [&](auto& a) { return a.async_get_json(key, net::use_awaitable); });
  }
#endif
  return wait_for<std::optional<std::string>>(
      [&](auto done) { kv_->async_get_json(key, std::move(done)); });
}

void Store::set(const kvstore::KvKey& key, const kvstore::Value& value,
                const kvstore::SetOptions& options) {
  if (!use_async()) return kv_->set(key, value, options);
#if defined(KVSTORE_CONFORMANCE_ASIO)
  if (api() == Api::asio) {
    return through_asio<void>(
        kv_, [&](auto& a) { return a.async_set(key, value, options, net::use_awaitable); });
  }
#endif
  wait_for<void>([&](auto done) { kv_->async_set(key, value, options, std::move(done)); });
}

void Store::set(const kvstore::KvKey& key, kvstore::Value&& value,
                const kvstore::SetOptions& options) {
  if (!use_async()) return kv_->set(key, value, options);
#if defined(KVSTORE_CONFORMANCE_ASIO)
  if (api() == Api::asio) {
    return through_asio<void>(kv_, [&](auto& a) {
      return a.async_set(key, std::move(value), options, net::use_awaitable);
    });
  }
#endif
  wait_for<void>(
      [&](auto done) { kv_->async_set(key, std::move(value), options, std::move(done)); });
}

void Store::set_json(const kvstore::KvKey& key, std::string_view json,
                     const kvstore::SetOptions& options) {
  if (!use_async()) return kv_->set_json(key, json, options);
#if defined(KVSTORE_CONFORMANCE_ASIO)
  if (api() == Api::asio) {
    return through_asio<void>(kv_, [&](auto& a) {
      return a.async_set_json(key, std::string(json), options, net::use_awaitable);
    });
  }
#endif
  wait_for<void>(
      [&](auto done) { kv_->async_set_json(key, std::string(json), options, std::move(done)); });
}

void Store::remove(const kvstore::KvKey& key) {
  if (!use_async()) return kv_->remove(key);
#if defined(KVSTORE_CONFORMANCE_ASIO)
  if (api() == Api::asio) {
    return through_asio<void>(kv_,
                              [&](auto& a) { return a.async_remove(key, net::use_awaitable); });
  }
#endif
  wait_for<void>([&](auto done) { kv_->async_remove(key, std::move(done)); });
}

bool Store::cas(const kvstore::KvKey& key, const std::optional<kvstore::Value>& expected,
                const std::optional<kvstore::Value>& desired, const kvstore::SetOptions& options) {
  if (!use_async()) return kv_->cas(key, expected, desired, options);
#if defined(KVSTORE_CONFORMANCE_ASIO)
  if (api() == Api::asio) {
    return through_asio<bool>(kv_, [&](auto& a) {
      return a.async_cas(key, expected, desired, options, net::use_awaitable);
    });
  }
#endif
  return wait_for<bool>(
      [&](auto done) { kv_->async_cas(key, expected, desired, options, std::move(done)); });
}

std::vector<std::optional<kvstore::Value>> Store::get_many(
    const std::vector<kvstore::KvKey>& keys) {
  using Values = std::vector<std::optional<kvstore::Value>>;
  if (!use_async()) return kv_->get_many(keys);
#if defined(KVSTORE_CONFORMANCE_ASIO)
  if (api() == Api::asio) {
    return through_asio<Values>(
        kv_, [&](auto& a) { return a.async_get_many(keys, net::use_awaitable); });
  }
#endif
  return wait_for<Values>([&](auto done) { kv_->async_get_many(keys, std::move(done)); });
}

void Store::set_many(const std::vector<kvstore::SetEntry>& entries) {
  if (!use_async()) return kv_->set_many(entries);
#if defined(KVSTORE_CONFORMANCE_ASIO)
  if (api() == Api::asio) {
    return through_asio<void>(
        kv_, [&](auto& a) { return a.async_set_many(entries, net::use_awaitable); });
  }
#endif
  wait_for<void>([&](auto done) { kv_->async_set_many(entries, std::move(done)); });
}

void Store::remove_many(const std::vector<kvstore::KvKey>& keys) {
  if (!use_async()) return kv_->remove_many(keys);
#if defined(KVSTORE_CONFORMANCE_ASIO)
  if (api() == Api::asio) {
    return through_asio<void>(
        kv_, [&](auto& a) { return a.async_remove_many(keys, net::use_awaitable); });
  }
#endif
  wait_for<void>([&](auto done) { kv_->async_remove_many(keys, std::move(done)); });
}

Listing<kvstore::Entry> Store::list(const kvstore::KvKey& prefix,
                                    const kvstore::ListOptions& options) {
  if (!use_async()) {
    return Listing<kvstore::Entry>(pull_from_range<kvstore::Entry>(kv_->list(prefix, options)));
  }
#if defined(KVSTORE_CONFORMANCE_ASIO)
  if (api() == Api::asio) {
    kvstore::boost_asio::store adapter(kv_, loop().get_executor());
    return Listing<kvstore::Entry>(
        pull_through_asio<kvstore::Entry>(kv_, adapter.list(prefix, options)));
  }
#endif
  return Listing<kvstore::Entry>(pull_from<kvstore::Entry>(kv_->async_list(prefix, options)));
}

Listing<kvstore::JsonEntry> Store::list_json(const kvstore::KvKey& prefix,
                                             const kvstore::ListOptions& options) {
  if (!use_async()) {
    return Listing<kvstore::JsonEntry>(
        pull_from_range<kvstore::JsonEntry>(kv_->list_json(prefix, options)));
  }
#if defined(KVSTORE_CONFORMANCE_ASIO)
  if (api() == Api::asio) {
    kvstore::boost_asio::store adapter(kv_, loop().get_executor());
    return Listing<kvstore::JsonEntry>(
        pull_through_asio<kvstore::JsonEntry>(kv_, adapter.list_json(prefix, options)));
  }
#endif
  return Listing<kvstore::JsonEntry>(
      pull_from<kvstore::JsonEntry>(kv_->async_list_json(prefix, options)));
}

std::optional<kvstore::Entry> Store::get_entry(const kvstore::KvKey& key) {
  using MaybeEntry = std::optional<kvstore::Entry>;
  if (!use_async()) return kv_->get_entry(key);
#if defined(KVSTORE_CONFORMANCE_ASIO)
  if (api() == Api::asio) {
    return through_asio<MaybeEntry>(
        kv_, [&](auto& a) { return a.async_get_entry(key, net::use_awaitable); });
  }
#endif
  return wait_for<MaybeEntry>([&](auto done) { kv_->async_get_entry(key, std::move(done)); });
}

Listing<kvstore::KeyEntry> Store::list_keys(const kvstore::KvKey& prefix,
                                            const kvstore::ListOptions& options) {
  if (!use_async()) {
    return Listing<kvstore::KeyEntry>(
        pull_from_range<kvstore::KeyEntry>(kv_->list_keys(prefix, options)));
  }
#if defined(KVSTORE_CONFORMANCE_ASIO)
  if (api() == Api::asio) {
    kvstore::boost_asio::store adapter(kv_, loop().get_executor());
    return Listing<kvstore::KeyEntry>(
        pull_through_asio<kvstore::KeyEntry>(kv_, adapter.list_keys(prefix, options)));
  }
#endif
  return Listing<kvstore::KeyEntry>(
      pull_from<kvstore::KeyEntry>(kv_->async_list_keys(prefix, options)));
}

}  // namespace conformance
