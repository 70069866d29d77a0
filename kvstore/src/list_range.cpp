#include "list_cursor.h"

#include <algorithm>

#include <kvstore/error.h>
#include <kvstore/store.h>

namespace kvstore::detail {

ListCursor::ListCursor(KvStore& store, std::weak_ptr<const void> store_alive, KeyRange range,
                       std::optional<std::size_t> limit, std::size_t page_size, bool keys_only)
    : store_(&store),
      store_alive_(std::move(store_alive)),
      driver_name_(store.driver_name()),
      range_(std::move(range)),
      remaining_(limit),
      page_size_(page_size),
      keys_only_(keys_only) {
  if (range_.end && range_.begin >= *range_.end) backend_exhausted_ = true;
}

StoredEntry* ListCursor::next() {
  if (remaining_ && *remaining_ == 0) return nullptr;
  if (position_ >= page_.size()) {
    if (backend_exhausted_) return nullptr;
    std::size_t want = remaining_ ? std::min(*remaining_, page_size_) : page_size_;
    if (store_alive_.expired()) {
      throw Error(ErrorCode::unavailable, "the store this listing came from has been destroyed",
                  driver_name_, false);
    }
    page_ = store_->list_page(range_, want, keys_only_);
    position_ = 0;
    if (page_.size() > want) page_.resize(want);  // a driver returning extra must not break limits
    if (page_.size() < want) backend_exhausted_ = true;
    if (page_.empty()) return nullptr;
    // Resume strictly after the last key of this page (see list_range()).
    range_.begin = page_.back().key + '\x01';
  }
  if (remaining_) --*remaining_;
  return &page_[position_++];
}

void ListCursorDeleter::operator()(ListCursor* cursor) const noexcept { delete cursor; }

namespace {
KvKey decode_listed_key(const std::string& encoded, const std::string& driver) {
  try {
    return decode_key(encoded);
  } catch (const Error& e) {
    throw e.with_driver(driver);
  }
}

template <class Out>
void fill_attributes(StoredEntry& stored, Out& out, const std::string& driver) {
  out.key = decode_listed_key(stored.key, driver);
  out.metadata.reset();
  if (stored.metadata) out.metadata = parse_stored_json(*stored.metadata, driver);
  out.expires_at = stored.expires_at;
}
}  // namespace

void fill_entry(StoredEntry&& stored, Entry& out, const std::string& driver) {
  fill_attributes(stored, out, driver);
  out.value = parse_stored_json(stored.json, driver);
}

void fill_entry(StoredEntry&& stored, JsonEntry& out, const std::string& driver) {
  fill_attributes(stored, out, driver);
  out.json = std::move(stored.json);
}

void fill_entry(StoredEntry&& stored, KeyEntry& out, const std::string& driver) {
  fill_attributes(stored, out, driver);
}

namespace {
template <class Out>
bool next_of(ListCursor& cursor, Out& out) {
  StoredEntry* stored = cursor.next();
  if (stored == nullptr) return false;
  fill_entry(std::move(*stored), out, cursor.driver_name());
  return true;
}
}  // namespace

bool next_entry(ListCursor& cursor, Entry& out) { return next_of(cursor, out); }
bool next_entry(ListCursor& cursor, JsonEntry& out) { return next_of(cursor, out); }
bool next_entry(ListCursor& cursor, KeyEntry& out) { return next_of(cursor, out); }

}  // namespace kvstore::detail
