// The measured side: any kvstore URL through kvstore::open().
#include "backend.h"

#include <atomic>
#include <cstdint>
#include <memory>

namespace kvbench {

namespace {

class KvstoreSession final : public Session {
 public:
  KvstoreSession(kvstore::KvStore& store, Mode mode) : store_(store), mode_(mode) {}

  bool get(const KvKey& key) override {
    if (mode_ == Mode::json) {
      value_ = store_.get(key);
      return value_.has_value();
    }
    text_ = store_.get_json(key);
    return text_.has_value();
  }

  std::optional<Value> get_value(const KvKey& key) override { return store_.get(key); }

  void set(const KvKey& key, const Doc& doc, Ttl ttl) override {
    if (mode_ == Mode::json) {
      store_.set(key, doc.value, {ttl});
    } else {
      store_.set_json(key, doc.text, {ttl});
    }
  }

  // The zero-parse API has no text cas, so both modes use the JSON cas.
  bool cas(const KvKey& key, const Doc* expected, const Doc* desired, Ttl ttl) override {
    std::optional<Value> e, d;
    if (expected) e = expected->value;
    if (desired) d = desired->value;
    return store_.cas(key, e, d, {ttl});
  }

  std::size_t get_many(const std::vector<KvKey>& keys) override {
    // The bulk read has no zero-parse form: both modes parse.
    std::size_t found = 0;
    for (const auto& value : store_.get_many(keys)) found += value.has_value();
    return found;
  }

  void set_many(const std::vector<KvKey>& keys, const std::vector<const Doc*>& docs,
                Ttl ttl) override {
    std::vector<kvstore::SetEntry> entries;
    entries.reserve(keys.size());
    for (std::size_t i = 0; i < keys.size(); ++i)
      entries.push_back({keys[i], docs[i]->value, {ttl}});
    store_.set_many(entries);
  }

  std::size_t list_keys(const KvKey& prefix) override {
    std::size_t count = 0;
    for (const kvstore::KeyEntry& entry : store_.list_keys(prefix)) {
      (void)entry;
      ++count;
    }
    return count;
  }

  std::size_t list(const KvKey& prefix) override {
    std::size_t count = 0;
    if (mode_ == Mode::json) {
      for (const kvstore::Entry& entry : store_.list(prefix)) {
        (void)entry;
        ++count;
      }
    } else {
      for (const kvstore::JsonEntry& entry : store_.list_json(prefix)) {
        (void)entry;
        ++count;
      }
    }
    return count;
  }

 private:
  kvstore::KvStore& store_;
  Mode mode_;
  std::optional<Value> value_;
  std::optional<std::string> text_;
};

// The callback core: each call hands its own copy of the key and document
// to the async_* member (they take their arguments by value), as a caller
// that keeps its documents would.
class KvstoreAsyncSession final : public AsyncSession {
 public:
  KvstoreAsyncSession(kvstore::KvStore& store, Mode mode) : store_(store), mode_(mode) {}

  void get(const KvKey& key, Done<bool> done) override {
    if (mode_ == Mode::json) {
      store_.async_get(key, [done = std::move(done)](kvstore::Result<std::optional<Value>> r) {
        if (!r) return done(std::make_exception_ptr(r.error()), false);
        done(nullptr, r.value().has_value());
      });
    } else {
      store_.async_get_json(
          key, [done = std::move(done)](kvstore::Result<std::optional<std::string>> r) {
            if (!r) return done(std::make_exception_ptr(r.error()), false);
            done(nullptr, r.value().has_value());
          });
    }
  }

  void get_value(const KvKey& key, Done<std::optional<Value>> done) override {
    store_.async_get(key, [done = std::move(done)](kvstore::Result<std::optional<Value>> r) {
      if (!r) return done(std::make_exception_ptr(r.error()), std::nullopt);
      done(nullptr, std::move(r).value());
    });
  }

  void set(const KvKey& key, const Doc& doc, Ttl ttl, DoneVoid done) override {
    auto complete = [done = std::move(done)](kvstore::Result<void> r) {
      done(r ? nullptr : std::make_exception_ptr(r.error()));
    };
    if (mode_ == Mode::json) {
      store_.async_set(key, doc.value, {ttl}, std::move(complete));
    } else {
      store_.async_set_json(key, doc.text, {ttl}, std::move(complete));
    }
  }

  // As the blocking session: the JSON cas in both modes.
  void cas(const KvKey& key, const Doc* expected, const Doc* desired, Ttl ttl,
           Done<bool> done) override {
    std::optional<Value> e, d;
    if (expected) e = expected->value;
    if (desired) d = desired->value;
    store_.async_cas(key, std::move(e), std::move(d), {ttl},
                     [done = std::move(done)](kvstore::Result<bool> r) {
                       if (!r) return done(std::make_exception_ptr(r.error()), false);
                       done(nullptr, r.value());
                     });
  }

  void get_many(const std::vector<KvKey>& keys, Done<std::size_t> done) override {
    store_.async_get_many(
        keys, [done = std::move(done)](kvstore::Result<std::vector<std::optional<Value>>> r) {
          if (!r) return done(std::make_exception_ptr(r.error()), 0);
          std::size_t found = 0;
          for (const auto& value : r.value()) found += value.has_value();
          done(nullptr, found);
        });
  }

  void set_many(const std::vector<KvKey>& keys, const std::vector<const Doc*>& docs, Ttl ttl,
                DoneVoid done) override {
    std::vector<kvstore::SetEntry> entries;
    entries.reserve(keys.size());
    for (std::size_t i = 0; i < keys.size(); ++i)
      entries.push_back({keys[i], docs[i]->value, {ttl}});
    store_.async_set_many(std::move(entries), [done = std::move(done)](kvstore::Result<void> r) {
      done(r ? nullptr : std::make_exception_ptr(r.error()));
    });
  }

  void list_keys(const KvKey& prefix, Done<std::size_t> done) override {
    pull(std::make_shared<Listing<kvstore::AsyncKeyListCursor>>(store_.async_list_keys(prefix),
                                                                std::move(done)));
  }

  void list(const KvKey& prefix, Done<std::size_t> done) override {
    if (mode_ == Mode::json) {
      pull(std::make_shared<Listing<kvstore::AsyncListCursor>>(store_.async_list(prefix),
                                                               std::move(done)));
    } else {
      pull(std::make_shared<Listing<kvstore::AsyncJsonListCursor>>(store_.async_list_json(prefix),
                                                                   std::move(done)));
    }
  }

 private:
  template <class Cursor>
  struct Listing {
    Listing(Cursor c, Done<std::size_t> d) : cursor(std::move(c)), done(std::move(d)) {}
    Cursor cursor;
    Done<std::size_t> done;
    std::size_t count = 0;
  };

  // One next() at a time, the next one from the completion of the last: the
  // cursor's single-consumer rule, and how an async caller pages.
  template <class Cursor>
  static void pull(std::shared_ptr<Listing<Cursor>> listing) {
    Cursor& cursor = listing->cursor;
    cursor.next([listing = std::move(listing)](auto r) mutable {
      if (!r) return listing->done(std::make_exception_ptr(r.error()), listing->count);
      if (!r.value()) return listing->done(nullptr, listing->count);
      ++listing->count;
      pull(std::move(listing));
    });
  }

  kvstore::KvStore& store_;
  Mode mode_;
};

// Counts calls, as a metrics observer would: what the observer hook costs
// is measured against the same store without one (--observer).
class CountingObserver final : public kvstore::Observer {
 public:
  void on_call(const kvstore::CallRecord& call) noexcept override {
    calls_.fetch_add(1, std::memory_order_relaxed);
    nanoseconds_.fetch_add(static_cast<std::uint64_t>(call.duration.count()),
                           std::memory_order_relaxed);
  }

 private:
  std::atomic<std::uint64_t> calls_{0};
  std::atomic<std::uint64_t> nanoseconds_{0};
};

class KvstoreBackend final : public Backend {
 public:
  KvstoreBackend(std::string url, bool observed)
      : url_(std::move(url)), observed_(observed), where_(kvstore::Url::parse(url_).redacted()) {
    open_store();
  }

  std::string name() const override {
    return store_->driver_name() + (observed_ ? "+observer" : "");
  }
  std::string driver() const override { return store_->driver_name(); }
  bool raw() const override { return false; }
  bool supports(OpKind) const override { return true; }
  std::string where() const override { return where_; }
  void reset() override {
    // A fresh handle per workload (a new empty store for memory:).
    store_.reset();
    open_store();
  }
  std::unique_ptr<Session> session(Mode mode) override {
    return std::make_unique<KvstoreSession>(*store_, mode);
  }
  std::unique_ptr<AsyncSession> async_session(Mode mode) override {
    return std::make_unique<KvstoreAsyncSession>(*store_, mode);
  }

 private:
  void open_store() {
    store_ = kvstore::open(url_);
    store_->ping();  // stores connect lazily: fail here, not in the first timed call
    if (observed_) store_->set_observer(std::make_shared<CountingObserver>());
  }

  std::string url_;
  bool observed_;
  std::string where_;
  std::unique_ptr<kvstore::KvStore> store_;
};

}  // namespace

std::unique_ptr<Backend> make_kvstore_backend(const std::string& url, bool observed) {
  return std::make_unique<KvstoreBackend>(url, observed);
}

}  // namespace kvbench
