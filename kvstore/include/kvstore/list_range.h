// ListRange: the lazy, single-pass result of KvStore::list() (and of
// list_json() and list_keys(), which yield JsonEntry and KeyEntry).
//
//   for (const kvstore::Entry& e : store->list({"_fedify", "publicKey"})) { ... }
//
// Entries arrive in ascending key order. The range fetches them from the
// backend one page at a time as the loop advances and never holds the whole
// result. It is a single-pass input range: begin() may be called once.
// Moving a range, before or after begin(), keeps its iterators valid.
//
// Lifetime and threads: a range refers to the store that made it. Destroying
// the store while another thread advances one of its ranges is undefined; once
// the store is gone, the next step that needs the backend (begin() or an
// increment past the page in hand) throws Error(unavailable, not retryable)
// instead of touching freed memory. One range is used by one thread at a
// time; other threads may use the store meanwhile. Keys present for the whole
// iteration are returned exactly once even if other keys are written or
// deleted meanwhile; keys written during the iteration may or may not appear.
// A backend failure while fetching the next page throws kvstore::Error from
// the iterator's increment (or from begin()).
#pragma once

#include <cstddef>
#include <iterator>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <kvstore/key.h>
#include <kvstore/options.h>
#include <kvstore/value.h>

namespace kvstore {

// One entry: what list() yields and get_entry() returns.
struct Entry {
  KvKey key;
  Value value;
  std::optional<Value> metadata = std::nullopt;                // none was written
  std::optional<Clock::time_point> expires_at = std::nullopt;  // never expires
};

// One listed entry, value left as the stored JSON text (see KvStore::list_json).
struct JsonEntry {
  KvKey key;
  std::string json;
  std::optional<Value> metadata = std::nullopt;
  std::optional<Clock::time_point> expires_at = std::nullopt;
};

// One entry of a keys-only listing (KvStore::list_keys): no value.
struct KeyEntry {
  KvKey key;
  std::optional<Value> metadata = std::nullopt;
  std::optional<Clock::time_point> expires_at = std::nullopt;
};

namespace detail {

// Fetches pages from the store (defined in the library).
class ListCursor;
struct ListCursorDeleter {
  void operator()(ListCursor* cursor) const noexcept;
};
using ListCursorPtr = std::unique_ptr<ListCursor, ListCursorDeleter>;

// Moves the next entry into `out`; false past the last one. Throws Error.
bool next_entry(ListCursor& cursor, Entry& out);
bool next_entry(ListCursor& cursor, JsonEntry& out);
bool next_entry(ListCursor& cursor, KeyEntry& out);

}  // namespace detail

template <class EntryType>
class BasicListRange {
  struct State {
    detail::ListCursorPtr cursor;
    EntryType current;
    bool started = false;
    bool done = false;

    void advance() { done = !detail::next_entry(*cursor, current); }
  };

 public:
  class iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = EntryType;
    using difference_type = std::ptrdiff_t;
    using pointer = const EntryType*;
    using reference = const EntryType&;

    iterator() = default;
    reference operator*() const { return state_->current; }
    pointer operator->() const { return &state_->current; }
    iterator& operator++() {
      state_->advance();
      return *this;
    }
    void operator++(int) { ++*this; }
    bool operator==(std::default_sentinel_t) const { return state_ == nullptr || state_->done; }

   private:
    friend class BasicListRange;
    explicit iterator(State* state) : state_(state) {}
    State* state_ = nullptr;
  };

  // Made by KvStore::list(), list_json() and list_keys().
  explicit BasicListRange(detail::ListCursorPtr cursor)
      : state_(std::make_unique<State>(State{std::move(cursor), {}, false, false})) {}
  BasicListRange(BasicListRange&&) noexcept = default;
  BasicListRange& operator=(BasicListRange&&) noexcept = default;

  // Fetches the first page. Call once.
  iterator begin() {
    if (!state_->started) {
      state_->started = true;
      state_->advance();
    }
    return iterator(state_.get());
  }
  std::default_sentinel_t end() const { return {}; }

  // Drains the rest of the range into a vector (convenience for small listings).
  std::vector<EntryType> to_vector() {
    std::vector<EntryType> out;
    for (auto it = begin(); it != end(); ++it) out.push_back(std::move(state_->current));
    return out;
  }

 private:
  std::unique_ptr<State> state_;
};

using ListRange = BasicListRange<Entry>;
using JsonListRange = BasicListRange<JsonEntry>;
using KeyListRange = BasicListRange<KeyEntry>;

}  // namespace kvstore
