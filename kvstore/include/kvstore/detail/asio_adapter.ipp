// The shared body of <kvstore/boost_asio.h> and <kvstore/asio.h>.
//
// No include guard: each of those headers includes its asio headers, then
// this file once, with
//   KVSTORE_ASIO_NET           the asio namespace (boost::asio or ::asio)
//   KVSTORE_ASIO_ADAPTER       the adapter's namespace inside kvstore
//   KVSTORE_ASIO_CANCELLATION  1 when the asio version has cancellation slots
// defined; this file undefines them at its end. Do not include it directly.

#include <exception>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <type_traits>
#include <vector>

#include <kvstore/store.h>

namespace kvstore::KVSTORE_ASIO_ADAPTER {

namespace detail {

// The completion signature of an operation that yields T.
template <class T>
struct Signature {
  using type = void(std::exception_ptr, T);
};
template <>
struct Signature<void> {
  using type = void(std::exception_ptr);
};

// Requests a stop on `source` when the token it watches is stopped.
struct ForwardStop {
  std::stop_source source;
  void operator()() const noexcept { source.request_stop(); }
};

// The stop token handed to the core: the caller's CallOptions::stop, joined
// with the handler's cancellation slot when it has one. Owns the link
// between the two; must outlive the core's call (it does: it lives in the
// operation, which the core's callback owns).
class StopLink {
 public:
  StopLink() = default;
  StopLink(StopLink&&) noexcept = default;
  StopLink& operator=(StopLink&&) noexcept = default;

  // A token that stops when `user` stops or when request_stop() is called.
  std::stop_token join(const std::stop_token& user) {
    if (user.stop_possible()) forward_ = std::make_unique<Forward>(user, ForwardStop{source_});
    return source_.get_token();
  }
  const std::stop_source& source() const noexcept { return source_; }

 private:
  using Forward = std::stop_callback<ForwardStop>;
  std::stop_source source_;
  std::unique_ptr<Forward> forward_;
};

// Connects `slot` to `source`: any cancellation type stops the core's call.
// A write or cas that had reached the backend may still take effect; the
// Error says outcome_unknown() (call_options.h).
template <class Slot>
void connect_slot(Slot& slot, const std::stop_source& source) {
#if KVSTORE_ASIO_CANCELLATION
  slot.assign([source](KVSTORE_ASIO_NET::cancellation_type type) mutable {
    if (type != KVSTORE_ASIO_NET::cancellation_type::none) source.request_stop();
  });
#else
  (void)slot;
  (void)source;
#endif
}

// Calls `handler` with the completion arguments for `result`.
template <class T, class Handler>
void invoke_with(Handler& handler, Result<T>& result) {
  if constexpr (std::is_void_v<T>) {
    std::exception_ptr error;
    if (!result) error = std::make_exception_ptr(result.error());
    std::move(handler)(error);
  } else {
    if (result) {
      std::move(handler)(std::exception_ptr(), std::move(result).value());
    } else {
      std::move(handler)(std::make_exception_ptr(result.error()), T{});
    }
  }
}

// One pending operation: the handler, outstanding work on its executor, and
// the store it keeps alive. The core's callback owns it; completing it posts
// the handler to its associated executor, so handlers never run on a
// kvstore thread.
template <class T, class Handler, class Executor>
class Operation {
 public:
  using HandlerExecutor = KVSTORE_ASIO_NET::associated_executor_t<Handler, Executor>;

  Operation(Handler handler, const Executor& fallback, std::shared_ptr<KvStore> kv)
      : work_(KVSTORE_ASIO_NET::make_work_guard(
            KVSTORE_ASIO_NET::get_associated_executor(handler, fallback))),
        handler_(std::move(handler)),
        kv_(std::move(kv)) {}

  // The stop token for the core: `user`, and the handler's cancellation
  // slot where asio has them.
  std::stop_token stop_token(const std::stop_token& user) {
#if KVSTORE_ASIO_CANCELLATION
    auto slot = KVSTORE_ASIO_NET::get_associated_cancellation_slot(handler_);
    if (slot.is_connected()) {
      std::stop_token joined = stop_.join(user);
      connect_slot(slot, stop_.source());
      return joined;
    }
#endif
    return user;
  }

  // Lets the handler's cancellation slot, if any, stop `source`.
  void connect_cancellation(const std::stop_source& source) {
#if KVSTORE_ASIO_CANCELLATION
    auto slot = KVSTORE_ASIO_NET::get_associated_cancellation_slot(handler_);
    if (slot.is_connected()) connect_slot(slot, source);
#else
    (void)source;
#endif
  }

  KvStore& store() const noexcept { return *kv_; }

  // Runs on a kvstore thread: hands the result to the handler's executor.
  // The store reference travels with it, so the last reference to the
  // store is released there, not on one of the store's own threads.
  static void complete(std::unique_ptr<Operation> self, Result<T> result) {
    HandlerExecutor ex = self->work_.get_executor();
    KVSTORE_ASIO_NET::post(ex, [self = std::move(self), result = std::move(result)]() mutable {
#if KVSTORE_ASIO_CANCELLATION
      // Before the handler runs: the slot must not call into a finished
      // operation. This runs on the handler's executor, where the
      // cancellation signal is emitted.
      KVSTORE_ASIO_NET::get_associated_cancellation_slot(self->handler_).clear();
#endif
      Handler handler = std::move(self->handler_);
      auto work = std::move(self->work_);
      std::shared_ptr<KvStore> kv = std::move(self->kv_);
      self.reset();
      invoke_with<T>(handler, result);
      (void)work;
    });
  }

 private:
  KVSTORE_ASIO_NET::executor_work_guard<HandlerExecutor> work_;
  Handler handler_;
  std::shared_ptr<KvStore> kv_;
  StopLink stop_;
};

// The initiation of every store operation. `start(store, done, options)`
// makes the core call.
template <class T, class Executor>
struct Initiate {
  std::shared_ptr<KvStore> kv;
  Executor ex;
  CallOptions options;

  template <class Handler, class Start>
  void operator()(Handler&& handler, Start&& start) {
    using Op = Operation<T, std::decay_t<Handler>, Executor>;
    auto op = std::make_unique<Op>(std::forward<Handler>(handler), ex, kv);
    CallOptions call = options;
    call.stop = op->stop_token(options.stop);
    KvStore& store = op->store();
    std::forward<Start>(start)(store, Callback<T>([op = std::move(op)](Result<T> result) mutable {
                                 Op::complete(std::move(op), std::move(result));
                               }),
                               std::move(call));
  }
};

}  // namespace detail

template <class Executor, class EntryType = Entry>
class basic_list_cursor;

// basic_store: a KvStore seen through Asio completion tokens.
//
//   kvstore::boost_asio::store kv(std::shared_ptr<kvstore::KvStore>(kvstore::open(url)),
//                                 io.get_executor());
//   std::optional<kvstore::Value> v = co_await kv.async_get(key, boost::asio::use_awaitable);
//
// Every call takes a completion token (a callback, use_future,
// use_awaitable, deferred, or a token adapted with bind_executor /
// bind_cancellation_slot) and completes with void(std::exception_ptr, T)
// (void(std::exception_ptr) for the writes that return nothing); the exception is
// a kvstore::Error, which use_awaitable and use_future rethrow. On error T
// is value-initialised (std::nullopt, false).
//
// Threads: the handler runs on its associated executor (a strand, the
// coroutine's executor; this store's executor when it has none), posted
// there, never on a kvstore thread and never inside the initiating call.
// Outstanding work is kept on that executor while the call is pending, so
// io_context::run() does not return under it.
//
// Lifetime: the store object is a cheap handle (a shared_ptr and an
// executor), copyable; a pending operation holds its own reference to the
// KvStore, which therefore outlives every pending call. If the KvStore is
// destroyed anyway (its owner holds the last reference elsewhere),
// pending calls complete with Error(unavailable).
//
// Cancellation: where asio has cancellation slots (standalone asio 1.22;
// not Boost 1.74), a signal on the handler's slot (any type) cancels the
// call: it completes with Error(cancelled). CallOptions (with_options())
// give a deadline and a std::stop_token for the calls made through the
// returned handle.
//
// Thread safety: a basic_store may be used from any thread; copies are
// independent.
template <class Executor>
class basic_store {
 public:
  using executor_type = Executor;
  using list_cursor_type = basic_list_cursor<Executor>;
  using json_list_cursor_type = basic_list_cursor<Executor, JsonEntry>;
  using key_list_cursor_type = basic_list_cursor<Executor, KeyEntry>;

  // Throws Error(invalid_argument) when `kv` is null.
  basic_store(std::shared_ptr<KvStore> kv, Executor ex, CallOptions options = {})
      : kv_(std::move(kv)), ex_(std::move(ex)), options_(std::move(options)) {
    if (!kv_) throw Error(ErrorCode::invalid_argument, "basic_store needs a KvStore, got null");
  }

  executor_type get_executor() const noexcept { return ex_; }
  const std::shared_ptr<KvStore>& kv() const noexcept { return kv_; }
  const CallOptions& call_options() const noexcept { return options_; }

  // A handle on the same KvStore whose calls use `options` (a deadline,
  // a stop token).
  basic_store with_options(CallOptions options) const {
    return basic_store(kv_, ex_, std::move(options));
  }

  // -> std::optional<Value>
  template <class CompletionToken>
  auto async_get(KvKey key, CompletionToken&& token) {
    return initiate<std::optional<Value>>(
        std::forward<CompletionToken>(token),
        [key = std::move(key)](KvStore& kv, auto done, CallOptions call) mutable {
          kv.async_get(std::move(key), std::move(done), std::move(call));
        });
  }

  // -> std::optional<std::string>: the stored JSON text.
  template <class CompletionToken>
  auto async_get_json(KvKey key, CompletionToken&& token) {
    return initiate<std::optional<std::string>>(
        std::forward<CompletionToken>(token),
        [key = std::move(key)](KvStore& kv, auto done, CallOptions call) mutable {
          kv.async_get_json(std::move(key), std::move(done), std::move(call));
        });
  }

  // -> void
  template <class CompletionToken>
  auto async_set(KvKey key, Value value, SetOptions options, CompletionToken&& token) {
    return initiate<void>(std::forward<CompletionToken>(token),
                          [key = std::move(key), value = std::move(value), options](
                              KvStore& kv, auto done, CallOptions call) mutable {
                            kv.async_set(std::move(key), std::move(value), options, std::move(done),
                                         std::move(call));
                          });
  }
  template <class CompletionToken>
  auto async_set(KvKey key, Value value, CompletionToken&& token) {
    return async_set(std::move(key), std::move(value), SetOptions{},
                     std::forward<CompletionToken>(token));
  }

  // -> void. `json` must be one valid JSON value; it is stored as given.
  template <class CompletionToken>
  auto async_set_json(KvKey key, std::string json, SetOptions options, CompletionToken&& token) {
    return initiate<void>(std::forward<CompletionToken>(token),
                          [key = std::move(key), json = std::move(json), options](
                              KvStore& kv, auto done, CallOptions call) mutable {
                            kv.async_set_json(std::move(key), std::move(json), options,
                                              std::move(done), std::move(call));
                          });
  }
  template <class CompletionToken>
  auto async_set_json(KvKey key, std::string json, CompletionToken&& token) {
    return async_set_json(std::move(key), std::move(json), SetOptions{},
                          std::forward<CompletionToken>(token));
  }

  // -> void
  template <class CompletionToken>
  auto async_remove(KvKey key, CompletionToken&& token) {
    return initiate<void>(std::forward<CompletionToken>(token),
                          [key = std::move(key)](KvStore& kv, auto done, CallOptions call) mutable {
                            kv.async_remove(std::move(key), std::move(done), std::move(call));
                          });
  }

  // -> bool: true if it swapped (KvStore::cas()).
  template <class CompletionToken>
  auto async_cas(KvKey key, std::optional<Value> expected, std::optional<Value> desired,
                 SetOptions options, CompletionToken&& token) {
    return initiate<bool>(
        std::forward<CompletionToken>(token),
        [key = std::move(key), expected = std::move(expected), desired = std::move(desired),
         options](KvStore& kv, auto done, CallOptions call) mutable {
          kv.async_cas(std::move(key), std::move(expected), std::move(desired), options,
                       std::move(done), std::move(call));
        });
  }
  template <class CompletionToken>
  auto async_cas(KvKey key, std::optional<Value> expected, std::optional<Value> desired,
                 CompletionToken&& token) {
    return async_cas(std::move(key), std::move(expected), std::move(desired), SetOptions{},
                     std::forward<CompletionToken>(token));
  }

  // -> std::vector<std::optional<Value>>, in the order of `keys` (KvStore::get_many()).
  template <class CompletionToken>
  auto async_get_many(std::vector<KvKey> keys, CompletionToken&& token) {
    return initiate<std::vector<std::optional<Value>>>(
        std::forward<CompletionToken>(token),
        [keys = std::move(keys)](KvStore& kv, auto done, CallOptions call) mutable {
          kv.async_get_many(std::move(keys), std::move(done), std::move(call));
        });
  }

  // -> void (KvStore::set_many())
  template <class CompletionToken>
  auto async_set_many(std::vector<SetEntry> entries, CompletionToken&& token) {
    return initiate<void>(
        std::forward<CompletionToken>(token),
        [entries = std::move(entries)](KvStore& kv, auto done, CallOptions call) mutable {
          kv.async_set_many(std::move(entries), std::move(done), std::move(call));
        });
  }

  // -> void (KvStore::remove_many())
  template <class CompletionToken>
  auto async_remove_many(std::vector<KvKey> keys, CompletionToken&& token) {
    return initiate<void>(
        std::forward<CompletionToken>(token),
        [keys = std::move(keys)](KvStore& kv, auto done, CallOptions call) mutable {
          kv.async_remove_many(std::move(keys), std::move(done), std::move(call));
        });
  }

  // -> std::optional<Entry>: value, metadata and expiry (KvStore::get_entry()).
  template <class CompletionToken>
  auto async_get_entry(KvKey key, CompletionToken&& token) {
    return initiate<std::optional<Entry>>(
        std::forward<CompletionToken>(token),
        [key = std::move(key)](KvStore& kv, auto done, CallOptions call) mutable {
          kv.async_get_entry(std::move(key), std::move(done), std::move(call));
        });
  }

  // The entries under `prefix` (KvStore::async_list()), pulled with
  // list_cursor::async_next().
  list_cursor_type list(KvKey prefix = {}, ListOptions options = {}) const {
    return list_cursor_type(kv_, ex_, std::move(prefix), std::move(options), options_);
  }
  // The same with each value as its stored JSON text (KvStore::async_list_json()).
  json_list_cursor_type list_json(KvKey prefix = {}, ListOptions options = {}) const {
    return json_list_cursor_type(kv_, ex_, std::move(prefix), std::move(options), options_);
  }
  // Keys with metadata and expiry, no values (KvStore::async_list_keys()).
  key_list_cursor_type list_keys(KvKey prefix = {}, ListOptions options = {}) const {
    return key_list_cursor_type(kv_, ex_, std::move(prefix), std::move(options), options_);
  }

 private:
  template <class T, class CompletionToken, class Start>
  auto initiate(CompletionToken&& token, Start&& start) {
    return KVSTORE_ASIO_NET::async_initiate<CompletionToken, typename detail::Signature<T>::type>(
        detail::Initiate<T, Executor>{kv_, ex_, options_}, token, std::forward<Start>(start));
  }

  std::shared_ptr<KvStore> kv_;
  Executor ex_;
  CallOptions options_;
};

// basic_list_cursor: KvStore::async_list() with completion tokens.
//
//   auto cursor = kv.list({"_fedify", "followers", actor});
//   while (auto entry = co_await cursor.async_next(boost::asio::use_awaitable)) use(*entry);
//
// async_next() completes with void(std::exception_ptr, std::optional<Entry>):
// the next entry, or std::nullopt past the last one, with the ordering,
// paging and concurrent-writer guarantees of KvStore::list(); pages are
// fetched as the consumer pulls, at most one ahead. One consumer: an
// async_next() while another is pending completes with
// Error(invalid_argument). Handlers run as basic_store's do.
//
// Lifetime: move-only; it keeps the KvStore alive. Destroying it with an
// async_next() pending is allowed: that call still completes.
//
// Cancellation: a cancellation slot signal (asio 1.22) or the stop token of
// the store's CallOptions cancels the whole listing, as the core's cursor
// has one stop token: the pending and every later async_next() complete
// with Error(cancelled).
template <class Executor, class EntryType>
class basic_list_cursor {
 public:
  using executor_type = Executor;

  basic_list_cursor(std::shared_ptr<KvStore> kv, Executor ex, KvKey prefix, ListOptions options,
                    CallOptions call)
      : kv_(std::move(kv)), ex_(std::move(ex)), stop_(std::make_unique<detail::StopLink>()) {
    call.stop = stop_->join(call.stop);
    if constexpr (std::is_same_v<EntryType, JsonEntry>) {
      cursor_.emplace(kv_->async_list_json(std::move(prefix), std::move(options), std::move(call)));
    } else if constexpr (std::is_same_v<EntryType, KeyEntry>) {
      cursor_.emplace(kv_->async_list_keys(std::move(prefix), std::move(options), std::move(call)));
    } else {
      cursor_.emplace(kv_->async_list(std::move(prefix), std::move(options), std::move(call)));
    }
  }
  basic_list_cursor(basic_list_cursor&&) noexcept = default;
  basic_list_cursor& operator=(basic_list_cursor&&) noexcept = default;

  executor_type get_executor() const noexcept { return ex_; }

  // -> std::optional<EntryType>
  template <class CompletionToken>
  auto async_next(CompletionToken&& token) {
    using Sig = void(std::exception_ptr, std::optional<EntryType>);
    return KVSTORE_ASIO_NET::async_initiate<CompletionToken, Sig>(
        NextInitiate{kv_, ex_, &*cursor_, stop_->source()}, token);
  }

 private:
  struct NextInitiate {
    std::shared_ptr<KvStore> kv;
    Executor ex;
    BasicAsyncListCursor<EntryType>* cursor;  // the core cursor; the consumer keeps it alive
    std::stop_source stop;

    template <class Handler>
    void operator()(Handler&& handler) {
      using Op = detail::Operation<std::optional<EntryType>, std::decay_t<Handler>, Executor>;
      auto op = std::make_unique<Op>(std::forward<Handler>(handler), ex, kv);
      // The core cursor has one stop token for its whole life, so a slot
      // signal stops the listing, not only this call.
      op->connect_cancellation(stop);
      cursor->next(Callback<std::optional<EntryType>>(
          [op = std::move(op)](Result<std::optional<EntryType>> result) mutable {
            Op::complete(std::move(op), std::move(result));
          }));
    }
  };

  std::shared_ptr<KvStore> kv_;
  Executor ex_;
  std::unique_ptr<detail::StopLink> stop_;
  std::optional<BasicAsyncListCursor<EntryType>> cursor_;
};

using store = basic_store<KVSTORE_ASIO_NET::any_io_executor>;
using list_cursor = basic_list_cursor<KVSTORE_ASIO_NET::any_io_executor>;
using json_list_cursor = basic_list_cursor<KVSTORE_ASIO_NET::any_io_executor, JsonEntry>;
using key_list_cursor = basic_list_cursor<KVSTORE_ASIO_NET::any_io_executor, KeyEntry>;

// Whether handlers' cancellation slots cancel calls in this build.
inline constexpr bool has_cancellation_slots = KVSTORE_ASIO_CANCELLATION != 0;

}  // namespace kvstore::KVSTORE_ASIO_ADAPTER

#undef KVSTORE_ASIO_ADAPTER
#undef KVSTORE_ASIO_NET
#undef KVSTORE_ASIO_CANCELLATION
