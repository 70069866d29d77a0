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
  // keys_only: pages come from do_list_keys() (entries without values).
  ListCursor(KvStore& store, std::weak_ptr<const void> store_alive, KeyRange range,
             std::optional<std::size_t> limit, std::size_t page_size, bool keys_only);
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
  bool keys_only_;
  std::vector<StoredEntry> page_;
  std::size_t position_ = 0;
  bool backend_exhausted_ = false;
};

// A stored entry as the user sees it: key decoded, metadata parsed, value
// parsed (Entry), kept as text (JsonEntry) or dropped (KeyEntry). Errors
// name `driver`. Shared by ranges, async cursors and get_entry().
void fill_entry(StoredEntry&& stored, Entry& out, const std::string& driver);
void fill_entry(StoredEntry&& stored, JsonEntry& out, const std::string& driver);
void fill_entry(StoredEntry&& stored, KeyEntry& out, const std::string& driver);

}  // namespace kvstore::detail
