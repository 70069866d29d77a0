// ListCursor: the page-fetching engine behind every ListRange (internal).
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <kvstore/driver.h>
#include <kvstore/list_range.h>

namespace kvstore {
class KvStore;
}

namespace kvstore::detail {

class ListCursor {
 public:
  ListCursor(KvStore& store, std::weak_ptr<const void> store_alive, KeyRange range,
             std::optional<std::size_t> limit, std::size_t page_size);
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

}  // namespace kvstore::detail
