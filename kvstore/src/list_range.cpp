#include <kvstore/list_range.h>

#include <algorithm>

#include <kvstore/store.h>

namespace kvstore::detail {

ListCursor::ListCursor(KvStore& store, KeyRange range, std::optional<std::size_t> limit,
                       std::size_t page_size)
    : store_(&store), range_(std::move(range)), remaining_(limit), page_size_(page_size) {
  if (range_.end && range_.begin >= *range_.end) backend_exhausted_ = true;
}

const std::string& ListCursor::driver_name() const { return store_->driver_name(); }

StoredEntry* ListCursor::next() {
  if (remaining_ && *remaining_ == 0) return nullptr;
  if (position_ >= page_.size()) {
    if (backend_exhausted_) return nullptr;
    std::size_t want = remaining_ ? std::min(*remaining_, page_size_) : page_size_;
    page_ = store_->do_list(range_, want);
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

void convert(StoredEntry&& stored, const std::string& driver, Entry& out) {
  out.key = decode_key(stored.key);
  out.value = parse_stored_json(stored.json, driver);
}

void convert(StoredEntry&& stored, const std::string& /*driver*/, JsonEntry& out) {
  out.key = decode_key(stored.key);
  out.json = std::move(stored.json);
}

}  // namespace kvstore::detail
