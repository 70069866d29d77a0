// The asynchronous half of KvStore and Driver: pending calls, the worker
// pool defaults, the JSON-equality cas state machine and async cursors.
#include <algorithm>
#include <mutex>

#include <kvstore/driver.h>
#include <kvstore/store.h>

#include "list_cursor.h"
#include "pending_call.h"
#include "worker_pool.h"

namespace kvstore {

namespace detail {

// --- PendingCall -------------------------------------------------------------

void PendingCall::StopForwarder::operator()() const noexcept {
  if (auto live = call.lock()) live->cancel_later();
}

void PendingCall::watch(std::chrono::steady_clock::time_point deadline,
                        const std::stop_token& user_stop) {
  timer_ = site_.scheduler->arm(deadline, weak_from_this());
  if (user_stop.stop_possible()) user_stop_.emplace(user_stop, StopForwarder{weak_from_this()});
}

void PendingCall::cancel_later() {
  // Not here: the stop callback runs inside whoever called request_stop().
  site_.scheduler->post([self = shared_from_this()] {
    if (!self->claim()) return;
    self->settle();
    self->finish_with(self->stopped_error(
        ErrorCode::cancelled, std::string(to_string(self->site_.operation)) + " was cancelled",
        false));
  });
}

bool PendingCall::claim() { return !claimed_.exchange(true, std::memory_order_acq_rel); }

void PendingCall::settle() {
  if (timer_ != 0) site_.scheduler->cancel(timer_);
  internal_stop_.request_stop();
  user_stop_.reset();
}

void PendingCall::report(const std::optional<ErrorCode>& error) {
  if (!site_.observer) return;
  CallRecord record{
      site_.operation, site_.driver, std::chrono::steady_clock::now() - started_, error, 0, 0};
  site_.observer->on_call(record);
}

Error PendingCall::stopped_error(ErrorCode code, std::string what, bool retryable) const {
  const bool unknown = site_.is_write && sent_.load(std::memory_order_relaxed);
  if (unknown) what += "; it may or may not have taken effect";
  return Error(code, "async " + what, site_.driver, retryable, "", unknown);
}

void PendingCall::expire() {
  if (!claim()) return;
  timer_ = 0;  // it fired
  settle();
  finish_with(stopped_error(ErrorCode::timeout,
                            std::string(to_string(site_.operation)) + " did not complete within " +
                                std::to_string(site_.timeout.count()) + "ms",
                            true));
}

void PendingCall::close() {
  if (!claim()) return;
  timer_ = 0;  // the scheduler dropped every timer
  settle();
  finish_with(stopped_error(ErrorCode::unavailable,
                            std::string(to_string(site_.operation)) +
                                ": the store was destroyed before the call completed",
                            false));
}

}  // namespace detail

void AsyncContext::mark_sent() const noexcept {
  if (call_) call_->mark_sent();
}

// --- Driver defaults: the blocking call on the store's worker pool -----------

template <class T, class Work>
void Driver::run_on_workers(Callback<T> done, AsyncContext context, Work work) {
  if (workers_ == nullptr) {
    done(Error(ErrorCode::internal, "driver has no worker pool (not wrapped in a KvStore)", name_,
               false));
    return;
  }
  const std::size_t queue_limit = workers_->queue_limit();
  workers_->submit([done = std::move(done), context = std::move(context), work = std::move(work),
                    name = name_, queue_limit](detail::JobTurn turn) mutable {
    if (turn == detail::JobTurn::queue_full) {
      done(Error(ErrorCode::limit_exceeded,
                 "too many async calls waiting for a worker (async_queue=" +
                     std::to_string(queue_limit) + ")",
                 name, true));
      return;
    }
    if (turn == detail::JobTurn::closed || context.stop_token().stop_requested()) {
      done(Error(ErrorCode::cancelled, "the call was abandoned before it started", name, false));
      return;
    }
    context.mark_sent();
    std::optional<Result<T>> result;
    try {
      if constexpr (std::is_void_v<T>) {
        work();
        result.emplace();
      } else {
        result.emplace(work());
      }
    } catch (const Error& e) {
      result.emplace(e);
    } catch (const std::bad_alloc&) {
      result.emplace(Error(ErrorCode::internal, "out of memory", name, false));
    } catch (const std::exception& e) {
      result.emplace(Error(ErrorCode::internal, e.what(), name, false));
    }
    done(std::move(*result));
  });
}

void Driver::do_async_get(std::string key, Callback<std::optional<std::string>> done,
                          AsyncContext context) {
  run_on_workers(std::move(done), std::move(context),
                 [this, key = std::move(key)] { return do_get(key); });
}

void Driver::do_async_set(std::string key, std::string json, StoredOptions options,
                          Callback<void> done, AsyncContext context) {
  run_on_workers(std::move(done), std::move(context),
                 [this, key = std::move(key), json = std::move(json),
                  options = std::move(options)] { do_set(key, json, options); });
}

void Driver::do_async_remove(std::string key, Callback<void> done, AsyncContext context) {
  run_on_workers(std::move(done), std::move(context),
                 [this, key = std::move(key)] { do_remove(key); });
}

void Driver::do_async_swap(std::string key, std::optional<std::string> expected,
                           std::optional<std::string> desired, StoredOptions options,
                           Callback<bool> done, AsyncContext context) {
  run_on_workers(std::move(done), std::move(context),
                 [this, key = std::move(key), expected = std::move(expected),
                  desired = std::move(desired), options = std::move(options)] {
                   auto view = [](const std::optional<std::string>& s) {
                     return s ? std::optional<std::string_view>(*s) : std::nullopt;
                   };
                   return do_swap(key, view(expected), view(desired), options);
                 });
}

void Driver::do_async_list(KeyRange range, std::size_t limit,
                           Callback<std::vector<StoredEntry>> done, AsyncContext context) {
  run_on_workers(std::move(done), std::move(context),
                 [this, range = std::move(range), limit] { return do_list(range, limit); });
}

void Driver::do_async_get_entry(std::string key, Callback<std::optional<StoredEntry>> done,
                                AsyncContext context) {
  run_on_workers(std::move(done), std::move(context),
                 [this, key = std::move(key)] { return do_get_entry(key); });
}

void Driver::do_async_list_keys(KeyRange range, std::size_t limit,
                                Callback<std::vector<StoredEntry>> done, AsyncContext context) {
  run_on_workers(std::move(done), std::move(context),
                 [this, range = std::move(range), limit] { return do_list_keys(range, limit); });
}

void Driver::do_async_get_many(std::vector<std::string> keys,
                               Callback<std::vector<std::optional<std::string>>> done,
                               AsyncContext context) {
  run_on_workers(std::move(done), std::move(context),
                 [this, keys = std::move(keys)] { return do_get_many(keys); });
}

void Driver::do_async_set_many(std::vector<StoredWrite> writes, Callback<void> done,
                               AsyncContext context) {
  run_on_workers(std::move(done), std::move(context),
                 [this, writes = std::move(writes)] { do_set_many(writes); });
}

void Driver::do_async_remove_many(std::vector<std::string> keys, Callback<void> done,
                                  AsyncContext context) {
  run_on_workers(std::move(done), std::move(context),
                 [this, keys = std::move(keys)] { do_remove_many(keys); });
}

// --- KvStore: starting a call ------------------------------------------------

template <class T>
void KvStore::fail_async(Callback<T>& done, Error error) {
  scheduler_->post(
      [done = std::move(done), error = std::move(error)]() mutable { done(std::move(error)); });
}

template <class T, class Start>
void KvStore::start_async(Operation operation, bool is_write, const CallOptions& options,
                          Callback<T> done, Start&& start) {
  const std::chrono::milliseconds timeout = options.timeout.value_or(request_timeout_);
  if (timeout.count() <= 0 || timeout > kLongestTimeout) {
    fail_async(done, Error(ErrorCode::invalid_argument,
                           "CallOptions::timeout must be from 1ms to 1h, got " +
                               std::to_string(timeout.count()) + "ms",
                           driver_name_, false));
    return;
  }
  auto pending = std::make_shared<detail::Pending<T>>(
      detail::CallSite{operation, is_write, driver_name_, timeout, scheduler_.get(), observer_},
      std::move(done));
  if (options.stop.stop_requested()) {
    pending->cancel_later();
    return;
  }
  const auto deadline = deadline_after(timeout);
  pending->watch(deadline, options.stop);
  pending->begin_initiation();
  try {
    start(pending, AsyncContext(pending, deadline, pending->internal_stop()));
  } catch (const Error& e) {
    pending->complete(e.driver().empty() ? e.with_driver(driver_name_) : e);
  } catch (const std::bad_alloc&) {
    pending->complete(Error(ErrorCode::internal, "out of memory", driver_name_, false));
  } catch (const std::exception& e) {
    pending->complete(Error(ErrorCode::internal, e.what(), driver_name_, false));
  }
  pending->end_initiation();
}

void KvStore::async_get(KvKey key, Callback<std::optional<Value>> done, CallOptions options) {
  start_async<std::optional<Value>>(
      Operation::get, false, options, std::move(done), [&](auto& pending, AsyncContext context) {
        check_key(key);
        driver_->do_async_get(
            encode_key(key),
            [pending](Result<std::optional<std::string>> text) {
              if (!text) return pending->complete(text.error());
              if (!text.value()) return pending->complete(std::optional<Value>());
              try {
                pending->complete(
                    std::optional<Value>(parse_stored_json(*text.value(), pending->site().driver)));
              } catch (const Error& e) {
                pending->complete(e);
              }
            },
            std::move(context));
      });
}

void KvStore::async_get_json(KvKey key, Callback<std::optional<std::string>> done,
                             CallOptions options) {
  start_async<std::optional<std::string>>(
      Operation::get_json, false, options, std::move(done),
      [&](auto& pending, AsyncContext context) {
        check_key(key);
        driver_->do_async_get(encode_key(key), detail::completing(pending), std::move(context));
      });
}

void KvStore::async_set(KvKey key, Value value, SetOptions set_options, Callback<void> done,
                        CallOptions options) {
  start_async<void>(Operation::set, true, options, std::move(done),
                    [&](auto& pending, AsyncContext context) {
                      check_key(key);
                      StoredOptions stored = checked_options(set_options);
                      std::string text = checked_value_text(value);
                      driver_->do_async_set(encode_key(key), std::move(text), std::move(stored),
                                            detail::completing(pending), std::move(context));
                    });
}

void KvStore::async_set_json(KvKey key, std::string json, SetOptions set_options,
                             Callback<void> done, CallOptions options) {
  start_async<void>(Operation::set_json, true, options, std::move(done),
                    [&](auto& pending, AsyncContext context) {
                      check_key(key);
                      StoredOptions stored = checked_options(set_options);
                      try {
                        validate_json_text(json, capabilities_.max_value_bytes);
                      } catch (const Error& e) {
                        throw Error(e.code(), e.message(), driver_name_, false);
                      }
                      driver_->do_async_set(encode_key(key), std::move(json), std::move(stored),
                                            detail::completing(pending), std::move(context));
                    });
}

void KvStore::async_remove(KvKey key, Callback<void> done, CallOptions options) {
  start_async<void>(
      Operation::remove, true, options, std::move(done), [&](auto& pending, AsyncContext context) {
        check_key(key);
        driver_->do_async_remove(encode_key(key), detail::completing(pending), std::move(context));
      });
}

// --- Bulk calls ----------------------------------------------------------------

void KvStore::async_get_many(std::vector<KvKey> keys,
                             Callback<std::vector<std::optional<Value>>> done,
                             CallOptions options) {
  using Values = std::vector<std::optional<Value>>;
  start_async<Values>(
      Operation::get_many, false, options, std::move(done),
      [&](auto& pending, AsyncContext context) {
        BulkKeys bulk = checked_bulk_keys(keys, "get_many");
        if (bulk.unique.empty()) return pending->complete(Values());
        const std::size_t asked = bulk.unique.size();
        driver_->do_async_get_many(
            std::move(bulk.unique),
            [pending, slot = std::move(bulk.slot),
             asked](Result<std::vector<std::optional<std::string>>> texts) {
              if (!texts) return pending->complete(texts.error());
              try {
                const std::string& driver = pending->site().driver;
                check_bulk_reply(texts.value().size(), asked, driver);
                pending->complete(values_in_order(std::move(texts).value(), slot, driver));
              } catch (const Error& e) {
                pending->complete(e);
              }
            },
            std::move(context));
      });
}

void KvStore::async_set_many(std::vector<SetEntry> entries, Callback<void> done,
                             CallOptions options) {
  start_async<void>(Operation::set_many, true, options, std::move(done),
                    [&](auto& pending, AsyncContext context) {
                      std::vector<StoredWrite> writes = checked_bulk_writes(entries);
                      if (writes.empty()) return pending->complete(Result<void>());
                      driver_->do_async_set_many(std::move(writes), detail::completing(pending),
                                                 std::move(context));
                    });
}

void KvStore::async_remove_many(std::vector<KvKey> keys, Callback<void> done, CallOptions options) {
  start_async<void>(Operation::remove_many, true, options, std::move(done),
                    [&](auto& pending, AsyncContext context) {
                      BulkKeys bulk = checked_bulk_keys(keys, "remove_many");
                      if (bulk.unique.empty()) return pending->complete(Result<void>());
                      driver_->do_async_remove_many(
                          std::move(bulk.unique), detail::completing(pending), std::move(context));
                    });
}

// --- async cas: JSON equality over the driver's byte-exact swap --------------

namespace detail {

// The steps of KvStore::swap_json_equal(), each one an async driver call.
class CasMachine : public std::enable_shared_from_this<CasMachine> {
 public:
  static constexpr int kMaxRounds = 1000;  // as the blocking cas

  CasMachine(Driver& driver, std::shared_ptr<Pending<bool>> pending, AsyncContext context,
             std::string key, std::string display_key, std::optional<Value> expected,
             std::optional<std::string> expected_text, std::optional<std::string> desired_text,
             StoredOptions options)
      : driver_(driver),
        pending_(std::move(pending)),
        context_(std::move(context)),
        key_(std::move(key)),
        display_key_(std::move(display_key)),
        expected_(std::move(expected)),
        expected_text_(std::move(expected_text)),
        desired_text_(std::move(desired_text)),
        options_(std::move(options)) {}

  void start() {
    driver_.do_async_swap(
        key_, expected_text_, desired_text_, options_,
        [self = shared_from_this()](Result<bool> r) { self->after_fast_swap(r); }, context_);
  }

 private:
  void after_fast_swap(const Result<bool>& swapped) {
    if (!swapped) return pending_->complete(swapped.error());
    if (swapped.value() || !expected_) return pending_->complete(swapped.value());
    read_current();
  }

  void read_current() {
    if (pending_->completed()) return;  // timed out, cancelled or closed meanwhile
    if (++rounds_ > kMaxRounds) {
      return pending_->complete(Error(
          ErrorCode::conflict, "cas on " + display_key_ + " kept losing to concurrent writers",
          pending_->site().driver));
    }
    driver_.do_async_get(
        key_,
        [self = shared_from_this()](Result<std::optional<std::string>> r) {
          self->after_read(std::move(r));
        },
        context_);
  }

  void after_read(Result<std::optional<std::string>> current) {
    if (!current) return pending_->complete(current.error());
    if (!current.value()) return pending_->complete(false);
    const std::string& text = *current.value();
    try {
      if (text != *expected_text_ &&
          !json_equal(parse_stored_json(text, pending_->site().driver), *expected_)) {
        return pending_->complete(false);
      }
    } catch (const Error& e) {
      return pending_->complete(e);
    }
    if (pending_->completed()) return;
    driver_.do_async_swap(
        key_, text, desired_text_, options_,
        [self = shared_from_this()](Result<bool> r) { self->after_swap(r); }, context_);
  }

  void after_swap(const Result<bool>& swapped) {
    if (!swapped) return pending_->complete(swapped.error());
    if (swapped.value()) return pending_->complete(true);
    read_current();  // the text changed between our read and our swap
  }

  Driver& driver_;
  std::shared_ptr<Pending<bool>> pending_;
  AsyncContext context_;
  std::string key_;
  std::string display_key_;
  std::optional<Value> expected_;
  std::optional<std::string> expected_text_;
  std::optional<std::string> desired_text_;
  StoredOptions options_;
  int rounds_ = 0;
};

}  // namespace detail

void KvStore::async_cas(KvKey key, std::optional<Value> expected, std::optional<Value> desired,
                        SetOptions set_options, Callback<bool> done, CallOptions options) {
  start_async<bool>(Operation::cas, true, options, std::move(done),
                    [&](auto& pending, AsyncContext context) {
                      check_key(key);
                      StoredOptions stored = checked_options(set_options);
                      std::optional<std::string> expected_text;
                      if (expected) expected_text = checked_value_text(*expected);
                      std::optional<std::string> desired_text;
                      if (desired) desired_text = checked_value_text(*desired);
                      auto machine = std::make_shared<detail::CasMachine>(
                          *driver_, pending, std::move(context), encode_key(key),
                          to_display_string(key), std::move(expected), std::move(expected_text),
                          std::move(desired_text), std::move(stored));
                      machine->start();
                    });
}

void KvStore::async_list_page(KeyRange range, std::size_t limit, bool keys_only,
                              const CallOptions& options, Callback<std::vector<StoredEntry>> done) {
  const Operation operation = keys_only ? Operation::list_keys_page : Operation::list_page;
  start_async<std::vector<StoredEntry>>(
      operation, false, options, std::move(done), [&](auto& pending, AsyncContext context) {
        if (keys_only) {
          driver_->do_async_list_keys(std::move(range), limit, detail::completing(pending),
                                      std::move(context));
        } else {
          driver_->do_async_list(std::move(range), limit, detail::completing(pending),
                                 std::move(context));
        }
      });
}

void KvStore::async_get_entry(KvKey key, Callback<std::optional<Entry>> done, CallOptions options) {
  start_async<std::optional<Entry>>(
      Operation::get_entry, false, options, std::move(done),
      [&](auto& pending, AsyncContext context) {
        check_key(key);
        std::string encoded = encode_key(key);
        driver_->do_async_get_entry(
            encoded,
            [pending, encoded](Result<std::optional<StoredEntry>> stored) {
              if (!stored) return pending->complete(stored.error());
              if (!stored.value()) return pending->complete(std::optional<Entry>());
              try {
                stored.value()->key = encoded;  // a driver may leave it empty
                Entry entry;
                detail::fill_entry(std::move(*stored.value()), entry, pending->site().driver);
                pending->complete(std::optional<Entry>(std::move(entry)));
              } catch (const Error& e) {
                pending->complete(e);
              }
            },
            std::move(context));
      });
}

}  // namespace kvstore
