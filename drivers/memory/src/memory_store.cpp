#include <kvstore/memory.h>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <shared_mutex>
#include <string>
#include <vector>

#include <kvstore/driver.h>

namespace kvstore::memory {

namespace {

// Expiry is decided on the monotonic clock; the wall-clock time is kept to
// report it (Entry::expires_at).
using SteadyClock = std::chrono::steady_clock;

// Expired entries found per write and removed while the write holds the lock;
// bounded so no single write pays for a large backlog.
constexpr std::size_t kSweepPerWrite = 8;

class MemoryStore final : public Driver {
 public:
  MemoryStore() : Driver("memory", Capabilities{}) {}

 public:
  std::optional<std::string> do_get(const std::string& key) override {
    const SteadyClock::time_point now = SteadyClock::now();
    std::shared_lock lock(mutex_);
    auto it = entries_.find(key);
    if (it == entries_.end() || expired(it->second, now)) return std::nullopt;
    return it->second.json;
  }

  // A copy of the cached Value costs about half of parsing the text again.
  bool do_get_value(const std::string& key, std::optional<Value>& out,
                    std::size_t& bytes) override {
    std::shared_ptr<const Value> value;
    {
      const SteadyClock::time_point now = SteadyClock::now();
      std::shared_lock lock(mutex_);
      auto it = entries_.find(key);
      if (it == entries_.end() || expired(it->second, now)) {
        out.reset();
        bytes = 0;
        return true;
      }
      bytes = it->second.json.size();
      value = parsed(it->second);
    }
    out.emplace(*value);  // outside the lock: the shared_ptr keeps it alive
    return true;
  }

  bool do_get_many_values(const std::vector<std::string>& keys,
                          std::vector<std::optional<Value>>& out, std::size_t& bytes) override {
    std::vector<std::shared_ptr<const Value>> values;
    values.reserve(keys.size());
    bytes = 0;
    {
      const SteadyClock::time_point now = SteadyClock::now();
      std::shared_lock lock(mutex_);
      for (const std::string& key : keys) {
        auto it = entries_.find(key);
        if (it == entries_.end() || expired(it->second, now)) {
          values.emplace_back();
          continue;
        }
        bytes += it->second.json.size();
        values.push_back(parsed(it->second));
      }
    }
    out.clear();
    out.reserve(values.size());
    for (const auto& value : values) {
      out.push_back(value ? std::optional<Value>(*value) : std::nullopt);
    }
    return true;
  }

  void do_set(const std::string& key, std::string_view json,
              const StoredOptions& options) override {
    const SteadyClock::time_point now = SteadyClock::now();
    std::unique_lock lock(mutex_);
    sweep(now);
    put(key, json, options, now);
  }

  void do_remove(const std::string& key) override {
    std::unique_lock lock(mutex_);
    auto it = entries_.find(key);
    if (it != entries_.end()) erase(it);
  }

  // The bulk calls take the lock once for the whole batch: the same work as
  // the single calls, without N lock round trips. Each is atomic as a result.
  std::vector<std::optional<std::string>> do_get_many(
      const std::vector<std::string>& keys) override {
    const SteadyClock::time_point now = SteadyClock::now();
    std::vector<std::optional<std::string>> texts;
    texts.reserve(keys.size());
    std::shared_lock lock(mutex_);
    for (const std::string& key : keys) {
      auto it = entries_.find(key);
      if (it == entries_.end() || expired(it->second, now)) {
        texts.emplace_back();
      } else {
        texts.emplace_back(it->second.json);
      }
    }
    return texts;
  }

  void do_set_many(const std::vector<StoredWrite>& writes) override {
    const SteadyClock::time_point now = SteadyClock::now();
    std::unique_lock lock(mutex_);
    // As many expired entries as N single writes would free, so bulk writers
    // with TTLs do not outpace the sweep.
    sweep(now, kSweepPerWrite * writes.size());
    for (const StoredWrite& write : writes) put(write.key, write.json, write.options, now);
  }

  void do_remove_many(const std::vector<std::string>& keys) override {
    std::unique_lock lock(mutex_);
    for (const std::string& key : keys) {
      auto it = entries_.find(key);
      if (it != entries_.end()) erase(it);
    }
  }

  bool do_swap(const std::string& key, std::optional<std::string_view> expected,
               std::optional<std::string_view> desired, const StoredOptions& options) override {
    const SteadyClock::time_point now = SteadyClock::now();
    std::unique_lock lock(mutex_);
    sweep(now);
    auto it = entries_.find(key);
    bool present = it != entries_.end() && !expired(it->second, now);
    if (expected ? !(present && it->second.json == *expected) : present) return false;
    if (desired) {
      put(key, *desired, options, now);
    } else if (it != entries_.end()) {
      erase(it);
    }
    return true;
  }

  std::vector<StoredEntry> do_list(const KeyRange& range, std::size_t limit) override {
    const SteadyClock::time_point now = SteadyClock::now();
    std::vector<StoredEntry> page;
    std::shared_lock lock(mutex_);
    for (auto it = entries_.lower_bound(range.begin);
         it != entries_.end() && page.size() < limit && (!range.end || it->first < *range.end);
         ++it) {
      if (!expired(it->second, now)) page.push_back(stored(*it, /*with_value=*/true));
    }
    return page;
  }

  std::optional<StoredEntry> do_get_entry(const std::string& key) override {
    const SteadyClock::time_point now = SteadyClock::now();
    std::shared_lock lock(mutex_);
    auto it = entries_.find(key);
    if (it == entries_.end() || expired(it->second, now)) return std::nullopt;
    return stored(*it, /*with_value=*/true);
  }

  std::vector<StoredEntry> do_list_keys(const KeyRange& range, std::size_t limit) override {
    const SteadyClock::time_point now = SteadyClock::now();
    std::vector<StoredEntry> page;
    std::shared_lock lock(mutex_);
    for (auto it = entries_.lower_bound(range.begin);
         it != entries_.end() && page.size() < limit && (!range.end || it->first < *range.end);
         ++it) {
      if (!expired(it->second, now)) page.push_back(stored(*it, /*with_value=*/false));
    }
    return page;
  }

 private:
  struct Item {
    std::string json;
    std::optional<std::string> metadata;
    std::optional<SteadyClock::time_point> expires_at;  // decides expiry
    std::optional<Clock::time_point> reported_expiry;   // what the entry says
    // json parsed, filled by the first get() after a write; memory for
    // speed: a read entry holds both forms.
    // Guarded by cache_mutex_ among readers (under the shared lock); a
    // writer holds the exclusive lock.
    mutable std::shared_ptr<const Value> parsed;
  };
  using Entries = std::map<std::string, Item, std::less<>>;

  // The parsed value of a live item, parsed now if no reader did yet. Call
  // with mutex_ held (shared is enough).
  std::shared_ptr<const Value> parsed(const Item& item) {
    std::shared_ptr<const Value> value;
    {
      std::lock_guard cache_lock(cache_mutex_);
      value = item.parsed;
    }
    if (!value) {
      // Readers racing here parse the same text; any of their results will
      // do. A writer resets the cache under the exclusive lock, so no stale
      // value can be stored after it.
      value = std::make_shared<const Value>(parse_stored_json(item.json, "memory"));
      std::lock_guard cache_lock(cache_mutex_);
      item.parsed = value;
    }
    return value;
  }

  template <class Pair>
  static StoredEntry stored(const Pair& entry, bool with_value) {
    return StoredEntry{entry.first, with_value ? entry.second.json : std::string(),
                       entry.second.metadata, entry.second.reported_expiry};
  }

  static bool expired(const Item& item, SteadyClock::time_point now) {
    return item.expires_at && *item.expires_at <= now;
  }

  void put(const std::string& key, std::string_view json, const StoredOptions& options,
           SteadyClock::time_point now) {
    auto [it, inserted] = entries_.try_emplace(key);
    Item& item = it->second;
    if (!inserted && item.expires_at) expiry_.erase({*item.expires_at, key});
    item.json.assign(json);
    item.metadata = options.metadata;
    item.parsed.reset();
    item.expires_at.reset();
    item.reported_expiry.reset();
    if (options.ttl) {
      item.expires_at = saturating_add(now, *options.ttl);
      item.reported_expiry =
          std::chrono::floor<std::chrono::milliseconds>(Clock::now()) + *options.ttl;
    } else if (options.expires_at) {
      // A time that has passed by now expires the entry at once.
      const auto left = *options.expires_at - Clock::now();
      item.expires_at = left.count() > 0 ? saturating_add(now, left) : now;
      item.reported_expiry = options.expires_at;
    }
    if (item.expires_at) expiry_.emplace(*item.expires_at, key);
  }

  void erase(Entries::iterator it) {
    if (it->second.expires_at) expiry_.erase({*it->second.expires_at, it->first});
    entries_.erase(it);
  }

  // Frees a few of the entries that expired longest ago: the expiry index is
  // ordered by time, so this never scans live entries.
  void sweep(SteadyClock::time_point now, std::size_t most = kSweepPerWrite) {
    for (std::size_t i = 0; i < most && !expiry_.empty(); ++i) {
      auto oldest = expiry_.begin();
      if (oldest->first > now) break;
      entries_.erase(oldest->second);
      expiry_.erase(oldest);
    }
  }

  std::shared_mutex mutex_;
  std::mutex cache_mutex_;  // the parsed caches, which readers fill
  Entries entries_;
  std::set<std::pair<SteadyClock::time_point, std::string>> expiry_;
};

}  // namespace

std::unique_ptr<KvStore> create() {
  return std::make_unique<KvStore>(std::make_unique<MemoryStore>());
}

std::unique_ptr<Driver> open(Url& url) {
  if (url.has_authority() || !url.path().empty()) {
    throw Error(ErrorCode::invalid_argument, "memory URLs take no host or path; write \"memory:\"",
                "memory", false);
  }
  return std::make_unique<MemoryStore>();
}

}  // namespace kvstore::memory
