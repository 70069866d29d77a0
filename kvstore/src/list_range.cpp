#include <kvstore/list_range.h>

#include <algorithm>

#include <kvstore/error.h>
#include <kvstore/store.h>

namespace kvstore::detail {

ListCursor::ListCursor(KvStore& store, KeyRange range, std::optional<std::size_t> limit,
                       std::size_t page_size)
    : store_(&store),
      store_alive_(store.alive_),
      driver_name_(store.driver_name()),
      range_(std::move(range)),
      remaining_(limit),
      page_size_(page_size) {
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
    try {
      page_ = store_->do_list(range_, want);
    } catch (const Error& e) {
      if (!e.driver().empty()) throw;
      throw Error(e.code(), e.message(), driver_name_, e.retryable());
    }
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

namespace {
KvKey decode_listed_key(const std::string& encoded, const std::string& driver) {
  try {
    return decode_key(encoded);
  } catch (const Error& e) {
    throw Error(e.code(), e.message(), driver, e.retryable());
  }
}
}  // namespace

void convert(StoredEntry&& stored, const std::string& driver, Entry& out) {
  out.key = decode_listed_key(stored.key, driver);
  out.value = parse_stored_json(stored.json, driver);
}

void convert(StoredEntry&& stored, const std::string& driver, JsonEntry& out) {
  out.key = decode_listed_key(stored.key, driver);
  out.json = std::move(stored.json);
}

}  // namespace kvstore::detail
