// Async cursors: pages fetched through KvStore::async_list_page as the
// consumer pulls, at most one page ahead of it.
#include <deque>
#include <mutex>

#include <kvstore/async_list_cursor.h>
#include <kvstore/driver.h>
#include <kvstore/store.h>

#include "list_cursor.h"
#include "scheduler.h"

namespace kvstore {

namespace detail {

template <class EntryType>
class AsyncListState : public std::enable_shared_from_this<AsyncListState<EntryType>> {
 public:
  using Done = Callback<std::optional<EntryType>>;
  // A keys-only cursor fetches its pages through do_list_keys().
  static constexpr bool kKeysOnly = std::is_same_v<EntryType, KeyEntry>;

  AsyncListState(KvStore& store, std::optional<Error> invalid, KeyRange range,
                 std::optional<std::size_t> limit, CallOptions options)
      : store_(&store),
        store_alive_(store.alive_),
        scheduler_(store.scheduler_.get()),
        driver_(store.driver_name()),
        invalid_(std::move(invalid)),
        range_(std::move(range)),
        remaining_(limit),
        page_size_(store.capabilities().list_page_size),
        options_(std::move(options)) {
    if (range_.end && range_.begin >= *range_.end) exhausted_ = true;
    if (remaining_ && *remaining_ == 0) exhausted_ = true;
  }

  void next(Done done) {
    std::unique_lock lock(mutex_);
    if (consumer_) {
      lock.unlock();
      return deliver(
          std::move(done),
          Error(ErrorCode::invalid_argument,
                "AsyncListCursor::next() called while another next() is pending", driver_, false));
    }
    if (invalid_) {
      Error error = *invalid_;
      lock.unlock();
      return deliver(std::move(done), std::move(error));
    }
    if (options_.stop.stop_requested()) {
      lock.unlock();
      return deliver(std::move(done),
                     Error(ErrorCode::cancelled, "the listing was cancelled", driver_, false));
    }
    consumer_ = std::move(done);
    serve_locked(lock);
    run_pending_fetch();
  }

 private:
  // Hands the consumer what is in hand, or starts the fetch it waits for.
  // Releases the lock.
  void serve_locked(std::unique_lock<std::mutex>& lock) {
    if (!consumer_) {
      lock.unlock();
      return;
    }
    if (current_.empty() && !ahead_.empty()) current_.swap(ahead_);
    if (!current_.empty()) {
      StoredEntry stored = std::move(current_.front());
      current_.pop_front();
      Done done = std::move(consumer_);
      prefetch_locked();
      lock.unlock();
      EntryType entry;
      try {
        fill_entry(std::move(stored), entry, driver_);
      } catch (const Error& e) {
        return deliver(std::move(done), e.driver().empty() ? e.with_driver(driver_) : e);
      }
      return deliver(std::move(done), std::optional<EntryType>(std::move(entry)));
    }
    if (error_) {
      Error error = std::move(*error_);
      error_.reset();
      Done done = std::move(consumer_);
      lock.unlock();
      return deliver(std::move(done), std::move(error));
    }
    if (exhausted_ && !fetching_) {
      Done done = std::move(consumer_);
      lock.unlock();
      return deliver(std::move(done), std::optional<EntryType>());
    }
    prefetch_locked();
    if (!fetching_) return serve_locked(lock);  // it failed or found the end at once
    lock.unlock();
  }

  // Starts fetching the page after those in hand, unless one is on its way
  // or a page is already waiting behind the current one.
  void prefetch_locked() {
    if (fetching_ || exhausted_ || error_ || !ahead_.empty()) return;
    const std::size_t want = remaining_ ? std::min(*remaining_, page_size_) : page_size_;
    if (want == 0) {
      exhausted_ = true;
      return;
    }
    if (store_alive_.expired()) {
      error_ = Error(ErrorCode::unavailable, "the store this listing came from has been destroyed",
                     driver_, false);
      return;
    }
    fetching_ = true;
    KeyRange range = range_;
    // Called without our lock held: the store may complete at once on
    // another thread.
    pending_fetch_ = [self = this->shared_from_this(), range = std::move(range), want]() mutable {
      self->store_->async_list_page(std::move(range), want, kKeysOnly, self->options_,
                                    [self, want](Result<std::vector<StoredEntry>> page) mutable {
                                      self->on_page(std::move(page), want);
                                    });
    };
  }

  void on_page(Result<std::vector<StoredEntry>> page, std::size_t want) {
    std::unique_lock lock(mutex_);
    fetching_ = false;
    if (!page) {
      error_ = page.error();
    } else {
      std::vector<StoredEntry>& entries = page.value();
      if (entries.size() > want) entries.resize(want);
      if (entries.size() < want) exhausted_ = true;
      if (!entries.empty()) range_.begin = entries.back().key + '\x01';
      if (remaining_) *remaining_ -= entries.size();
      if (remaining_ && *remaining_ == 0) exhausted_ = true;
      std::deque<StoredEntry>& target = current_.empty() ? current_ : ahead_;
      for (StoredEntry& e : entries) target.push_back(std::move(e));
    }
    serve_locked(lock);
    run_pending_fetch();
  }

  // Delivers through the scheduler: never inside next() itself.
  void deliver(Done done, Result<std::optional<EntryType>> result) {
    run_pending_fetch();
    scheduler_post([done = std::move(done), result = std::move(result)]() mutable {
      done(std::move(result));
    });
  }

  void scheduler_post(Task task) {
    if (store_alive_.expired()) {
      // No store threads any more: a thread of its own, as the closed scheduler does.
      std::thread([task = std::move(task)]() mutable { task(); }).detach();
      return;
    }
    scheduler_->post(std::move(task));
  }

  void run_pending_fetch() {
    Task fetch;
    {
      std::lock_guard lock(mutex_);
      fetch = std::move(pending_fetch_);
    }
    if (fetch) fetch();
  }

  KvStore* store_;
  std::weak_ptr<const void> store_alive_;
  Scheduler* scheduler_;
  std::string driver_;
  std::optional<Error> invalid_;

  std::mutex mutex_;
  KeyRange range_;  // what remains to fetch
  std::optional<std::size_t> remaining_;
  std::size_t page_size_;
  CallOptions options_;
  std::deque<StoredEntry> current_;
  std::deque<StoredEntry> ahead_;
  std::optional<Error> error_;
  bool fetching_ = false;
  bool exhausted_ = false;
  Done consumer_;
  Task pending_fetch_;
};

}  // namespace detail

template <class EntryType>
void BasicAsyncListCursor<EntryType>::next(Callback<std::optional<EntryType>> done) {
  state_->next(std::move(done));
}

template class BasicAsyncListCursor<Entry>;
template class BasicAsyncListCursor<JsonEntry>;
template class BasicAsyncListCursor<KeyEntry>;

template <class EntryType>
BasicAsyncListCursor<EntryType> KvStore::make_async_cursor(KvKey prefix, ListOptions list_options,
                                                           CallOptions options) {
  std::optional<Error> invalid;
  KeyRange range;
  try {
    check_key(prefix, /*allow_empty=*/true);
    if (list_options.start_after) check_key(*list_options.start_after);
    range = list_range(prefix, list_options.start_after);
  } catch (const Error& e) {
    invalid = e.driver().empty() ? e.with_driver(driver_name_) : e;
  }
  return BasicAsyncListCursor<EntryType>(std::make_shared<detail::AsyncListState<EntryType>>(
      *this, std::move(invalid), std::move(range), list_options.limit, std::move(options)));
}

AsyncListCursor KvStore::async_list(KvKey prefix, ListOptions list_options, CallOptions options) {
  return make_async_cursor<Entry>(std::move(prefix), std::move(list_options), std::move(options));
}

AsyncJsonListCursor KvStore::async_list_json(KvKey prefix, ListOptions list_options,
                                             CallOptions options) {
  return make_async_cursor<JsonEntry>(std::move(prefix), std::move(list_options),
                                      std::move(options));
}

AsyncKeyListCursor KvStore::async_list_keys(KvKey prefix, ListOptions list_options,
                                            CallOptions options) {
  return make_async_cursor<KeyEntry>(std::move(prefix), std::move(list_options),
                                     std::move(options));
}

}  // namespace kvstore
