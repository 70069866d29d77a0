// The conformance suite's view of the store under test.
//
// The suite is one body of tests that every driver runs. The test binary is
// started with the store URL (see main.cpp); each test case opens its own
// fresh, empty store in a namespace of its own, so test cases never see each
// other's keys, even when they share one server.
//
// Tests talk to the store through conformance::Store, which has the
// blocking API's calls and sends each one through the API the run selected
// (--kv-api): the blocking calls themselves, the async callback core (each
// call started with async_* and waited for), or the Boost.Asio adapter
// (each call a coroutine on an io_context, co_await ... use_awaitable). In the async run, calls
// made from threads a test starts alternate between the async and the
// blocking API, so that concurrency cases mix both kinds of caller.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <kvstore/kvstore.h>

namespace conformance {

enum class Api { blocking, callback, asio };

// The API this run goes through.
Api api();

// A listing, pulled entry by entry through the selected API. Single pass.
template <class EntryType>
class Listing {
 public:
  using Pull = std::function<std::optional<EntryType>()>;  // throws kvstore::Error

  explicit Listing(Pull pull) : pull_(std::move(pull)) {}

  class iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = EntryType;
    using difference_type = std::ptrdiff_t;
    using pointer = const EntryType*;
    using reference = const EntryType&;
    iterator() = default;
    explicit iterator(Listing* owner) : owner_(owner) {}
    reference operator*() const { return *owner_->current_; }
    pointer operator->() const { return &*owner_->current_; }
    iterator& operator++() {
      owner_->advance();
      if (!owner_->current_) owner_ = nullptr;
      return *this;
    }
    bool operator==(const iterator& other) const { return owner_ == other.owner_; }
    bool operator!=(const iterator& other) const { return owner_ != other.owner_; }

   private:
    Listing* owner_ = nullptr;
  };

  iterator begin() {
    advance();
    return current_ ? iterator(this) : iterator();
  }
  iterator end() { return iterator(); }
  std::vector<EntryType> to_vector() {
    std::vector<EntryType> all;
    for (auto& entry : *this) all.push_back(entry);
    return all;
  }

 private:
  void advance() { current_ = pull_(); }
  Pull pull_;
  std::optional<EntryType> current_;
};

class Store {
 public:
  explicit Store(std::shared_ptr<kvstore::KvStore> kv) : kv_(std::move(kv)) {}

  std::optional<kvstore::Value> get(const kvstore::KvKey& key);
  std::optional<std::string> get_json(const kvstore::KvKey& key);
  void set(const kvstore::KvKey& key, const kvstore::Value& value,
           const kvstore::SetOptions& options = {});
  // Moves a temporary into async_set (a copy of a 100000-deep value would
  // recurse past the stack).
  void set(const kvstore::KvKey& key, kvstore::Value&& value,
           const kvstore::SetOptions& options = {});
  void set_json(const kvstore::KvKey& key, std::string_view json,
                const kvstore::SetOptions& options = {});
  void remove(const kvstore::KvKey& key);
  bool cas(const kvstore::KvKey& key, const std::optional<kvstore::Value>& expected,
           const std::optional<kvstore::Value>& desired, const kvstore::SetOptions& options = {});
  std::vector<std::optional<kvstore::Value>> get_many(const std::vector<kvstore::KvKey>& keys);
  void set_many(const std::vector<kvstore::SetEntry>& entries);
  void remove_many(const std::vector<kvstore::KvKey>& keys);
  std::optional<kvstore::Entry> get_entry(const kvstore::KvKey& key);
  // A listing; in the async run an invalid prefix throws at the first step
  // (begin() or to_vector()) rather than here.
  Listing<kvstore::Entry> list(const kvstore::KvKey& prefix = {},
                               const kvstore::ListOptions& options = {});
  Listing<kvstore::JsonEntry> list_json(const kvstore::KvKey& prefix = {},
                                        const kvstore::ListOptions& options = {});
  Listing<kvstore::KeyEntry> list_keys(const kvstore::KvKey& prefix = {},
                                       const kvstore::ListOptions& options = {});
  template <class T>
  std::optional<T> get_as(const kvstore::KvKey& key) {
    return kv_->get_as<T>(key);
  }
  void ping() { kv_->ping(); }

  const std::string& driver_name() const noexcept { return kv_->driver_name(); }
  const kvstore::Capabilities& capabilities() const noexcept { return kv_->capabilities(); }
  // The store itself, for what is not a call (cas recipes, observers).
  kvstore::KvStore& kv() noexcept { return *kv_; }

 private:
  bool use_async() const;
  std::shared_ptr<kvstore::KvStore> kv_;
};

// Opens a new, empty store for the running test case. Each call gives a
// distinct namespace unless `same_as` names the namespace of an earlier call
// (to open a second handle on the same data).
std::unique_ptr<Store> open_store(const std::string& same_as = {});

// open_store() with extra URL parameters, e.g. "list_page_size=2".
std::unique_ptr<Store> open_store_with(const std::string& params, const std::string& same_as = {});

// The namespace of the most recent open_store() call.
const std::string& last_namespace();

// The URL the most recent open_store() call used (for diagnostics).
const std::string& last_url();

}  // namespace conformance
