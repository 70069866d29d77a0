// ListRange: the lazy, single-pass result of KvStore::list().
//
//   for (const kvstore::Entry& e : store->list({"_fedify", "publicKey"})) { ... }
//
// Entries arrive in ascending key order. The range fetches them from the
// backend one page at a time as the loop advances and never holds the whole
// result. It is a single-pass input range: begin() may be called once.
//
// Lifetime and threads: a range refers to the store that made it. Destroying
// the store while another thread advances one of its ranges is undefined; once
// the store is gone, the next step that needs the backend (begin() or an
// increment past the page in hand) throws Error(unavailable, not retryable)
// instead of touching freed memory. One range is used by one thread at a
// time; other threads may use the store meanwhile. Keys present for the whole iteration are
// returned exactly once even if other keys are written or deleted meanwhile; keys written during
// the iteration may or may not appear. A backend failure while fetching the next page throws
// kvstore::Error from the iterator's increment (or from begin()).
#pragma once

#include <cstddef>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <kvstore/key.h>
#include <kvstore/key_encoding.h>
#include <kvstore/value.h>

namespace kvstore {

class KvStore;

// One listed entry, value parsed.
struct Entry {
  KvKey key;
  Value value;
};

// One listed entry, value left as the stored JSON text (see KvStore::list_json).
struct JsonEntry {
  KvKey key;
  std::string json;
};

// What a driver returns for one page of a listing: the encoded key and the
// stored JSON text.
struct StoredEntry {
  std::string key;
  std::string json;
};

namespace detail {

// The page-fetching engine shared by every BasicListRange.
class ListCursor {
 public:
  ListCursor(KvStore& store, KeyRange range, std::optional<std::size_t> limit,
             std::size_t page_size);
  // The next entry, or nullptr past the last one. The entry stays valid until
  // the next call; the caller may move from it. Errors name the driver.
  StoredEntry* next();
  const std::string& driver_name() const noexcept { return driver_name_; }

 private:
  KvStore* store_;
  std::weak_ptr<const void> store_alive_;  // expires when the store is destroyed
  std::string driver_name_;
  KeyRange range_;
  std::optional<std::size_t> remaining_;
  std::size_t page_size_;
  std::vector<StoredEntry> page_;
  std::size_t position_ = 0;
  bool backend_exhausted_ = false;
};

void convert(StoredEntry&& stored, const std::string& driver, Entry& out);
void convert(StoredEntry&& stored, const std::string& driver, JsonEntry& out);

}  // namespace detail

template <class EntryType>
class BasicListRange {
 public:
  class iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = EntryType;
    using difference_type = std::ptrdiff_t;
    using pointer = const EntryType*;
    using reference = const EntryType&;

    iterator() = default;
    reference operator*() const { return range_->current_; }
    pointer operator->() const { return &range_->current_; }
    iterator& operator++() {
      range_->advance();
      return *this;
    }
    void operator++(int) { ++*this; }
    bool operator==(std::default_sentinel_t) const { return range_ == nullptr || range_->done_; }

   private:
    friend class BasicListRange;
    explicit iterator(BasicListRange* range) : range_(range) {}
    BasicListRange* range_ = nullptr;
  };

  BasicListRange(KvStore& store, KeyRange range, std::optional<std::size_t> limit,
                 std::size_t page_size)
      : cursor_(std::make_unique<detail::ListCursor>(store, std::move(range), limit, page_size)) {}
  BasicListRange(BasicListRange&&) noexcept = default;
  BasicListRange& operator=(BasicListRange&&) noexcept = default;

  // Fetches the first page. Call once.
  iterator begin() {
    if (!started_) {
      started_ = true;
      advance();
    }
    return iterator(this);
  }
  std::default_sentinel_t end() const { return {}; }

  // Drains the rest of the range into a vector (convenience for small listings).
  std::vector<EntryType> to_vector() {
    std::vector<EntryType> out;
    for (auto it = begin(); it != end(); ++it) out.push_back(std::move(current_));
    return out;
  }

 private:
  void advance() {
    StoredEntry* next = cursor_->next();
    if (next == nullptr) {
      done_ = true;
      return;
    }
    detail::convert(std::move(*next), cursor_->driver_name(), current_);
  }

  std::unique_ptr<detail::ListCursor> cursor_;
  EntryType current_;
  bool started_ = false;
  bool done_ = false;
};

using ListRange = BasicListRange<Entry>;
using JsonListRange = BasicListRange<JsonEntry>;

}  // namespace kvstore
