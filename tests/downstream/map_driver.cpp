#include "map_driver.h"

#include <chrono>
#include <map>
#include <mutex>

namespace mapdriver {

namespace {

// A small driver keeps expiry on the wall clock: what it stores is what
// get_entry() reports. (The memory driver decides on the monotonic clock.)
using kvstore::Clock;

// The data behind one URL path; stores opened on the same path share it, and
// it lives as long as the process.
struct Table {
  struct Item {
    std::string json;
    std::optional<std::string> metadata;
    std::optional<Clock::time_point> expires_at;
  };
  std::mutex mutex;
  std::map<std::string, Item> items;

  bool live(const Item& item, Clock::time_point now) const {
    return !item.expires_at || *item.expires_at > now;
  }
};

std::shared_ptr<Table> table_named(const std::string& name) {
  static std::mutex mutex;
  static std::map<std::string, std::shared_ptr<Table>> tables;
  std::lock_guard lock(mutex);
  std::shared_ptr<Table>& table = tables[name];
  if (!table) table = std::make_shared<Table>();
  return table;
}

class MapDriver final : public kvstore::Driver {
 public:
  explicit MapDriver(std::shared_ptr<Table> table)
      : Driver("map", kvstore::Capabilities{.persistent = true, .shared = true}),
        table_(std::move(table)) {}

  std::optional<std::string> do_get(const std::string& key) override {
    std::lock_guard lock(table_->mutex);
    auto it = table_->items.find(key);
    if (it == table_->items.end() || !table_->live(it->second, Clock::now())) return std::nullopt;
    return it->second.json;
  }

  void do_set(const std::string& key, std::string_view json,
              const kvstore::StoredOptions& options) override {
    std::lock_guard lock(table_->mutex);
    put(key, json, options);
  }

  void do_remove(const std::string& key) override {
    std::lock_guard lock(table_->mutex);
    table_->items.erase(key);
  }

  bool do_swap(const std::string& key, std::optional<std::string_view> expected,
               std::optional<std::string_view> desired,
               const kvstore::StoredOptions& options) override {
    std::lock_guard lock(table_->mutex);
    auto it = table_->items.find(key);
    const bool present = it != table_->items.end() && table_->live(it->second, Clock::now());
    if (expected ? !(present && it->second.json == *expected) : present) return false;
    if (desired) {
      put(key, *desired, options);
    } else if (it != table_->items.end()) {
      table_->items.erase(it);
    }
    return true;
  }

  std::vector<kvstore::StoredEntry> do_list(const kvstore::KeyRange& range,
                                            std::size_t limit) override {
    std::lock_guard lock(table_->mutex);
    const Clock::time_point now = Clock::now();
    std::vector<kvstore::StoredEntry> page;
    for (auto it = table_->items.lower_bound(range.begin);
         it != table_->items.end() && page.size() < limit && (!range.end || it->first < *range.end);
         ++it) {
      if (table_->live(it->second, now)) {
        page.push_back({it->first, it->second.json, it->second.metadata, it->second.expires_at});
      }
    }
    return page;
  }

 private:
  // get_entry() and list_keys() use the kit's defaults, built on do_list().
  void put(const std::string& key, std::string_view json, const kvstore::StoredOptions& options) {
    Table::Item& item = table_->items[key];
    item.json.assign(json);
    item.metadata = options.metadata;
    item.expires_at = options.expires_at;
    if (options.ttl) {
      item.expires_at = kvstore::saturating_add(
          std::chrono::floor<std::chrono::milliseconds>(Clock::now()), *options.ttl);
    }
  }

  std::shared_ptr<Table> table_;
};

}  // namespace

std::unique_ptr<kvstore::Driver> open(kvstore::Url& url) {
  if (url.has_authority() || url.path().empty()) {
    throw kvstore::Error(kvstore::ErrorCode::invalid_argument, "map URLs look like map:NAME");
  }
  return std::make_unique<MapDriver>(table_named(url.path()));
}

}  // namespace mapdriver
