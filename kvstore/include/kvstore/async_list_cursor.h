// AsyncListCursor: the result of KvStore::async_list(), consumed one entry
// at a time.
//
//   void pull(kvstore::AsyncListCursor& cursor) {
//     cursor.next([&cursor](kvstore::Result<std::optional<kvstore::Entry>> r) {
//       if (!r || !r.value()) return;  // an error, or the end
//       use(*r.value());
//       pull(cursor);
//     });
//   }
//
// (The adapters of <kvstore/boost_asio.h>, <kvstore/asio.h> and
// <kvstore/coro.h> make this a plain loop with co_await.)
//
// next() completes with the next entry, or std::nullopt past the last one,
// with the ordering, prefix, limit and concurrent-writer guarantees of
// KvStore::list() (list_range.h). Pages are fetched as the consumer pulls,
// at most one page ahead of it. A failed fetch completes that next() with
// the Error; the following next() fetches the same page again.
//
// Threads and lifetime: a cursor is move-only and has one consumer; calling
// next() again before the previous next() completed completes the second
// call with Error(invalid_argument). Destroying a cursor is allowed at any
// time, a page fetch in flight included (its result is dropped). Once the
// store is destroyed, the entries already fetched are still delivered; a
// next() that needs the backend completes with Error(unavailable, not
// retryable). Each next() has the
// CallOptions given to async_list(): the timeout applies to each next(), the
// stop token to the whole cursor.
#pragma once

#include <memory>
#include <optional>

#include <kvstore/callback.h>
#include <kvstore/list_range.h>

namespace kvstore {

namespace detail {
template <class EntryType>
class AsyncListState;
}  // namespace detail

template <class EntryType>
class BasicAsyncListCursor {
 public:
  BasicAsyncListCursor(BasicAsyncListCursor&&) noexcept = default;
  BasicAsyncListCursor& operator=(BasicAsyncListCursor&&) noexcept = default;
  ~BasicAsyncListCursor() = default;

  // Completes `done` with the next entry, or std::nullopt at the end.
  void next(Callback<std::optional<EntryType>> done);

  explicit BasicAsyncListCursor(std::shared_ptr<detail::AsyncListState<EntryType>> state)
      : state_(std::move(state)) {}

 private:
  std::shared_ptr<detail::AsyncListState<EntryType>> state_;
};

// Entries with parsed values (async_list) and with JSON text (async_list_json).
using AsyncListCursor = BasicAsyncListCursor<Entry>;
using AsyncJsonListCursor = BasicAsyncListCursor<JsonEntry>;
// Keys with metadata and expiry, no values (async_list_keys).
using AsyncKeyListCursor = BasicAsyncListCursor<KeyEntry>;

extern template class BasicAsyncListCursor<Entry>;
extern template class BasicAsyncListCursor<JsonEntry>;
extern template class BasicAsyncListCursor<KeyEntry>;

}  // namespace kvstore
