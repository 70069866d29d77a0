#include <kvstore/store.h>

#include <algorithm>
#include <exception>
#include <unordered_map>

#include <kvstore/driver.h>
#include <kvstore/error.h>

#include "list_cursor.h"
#include "scheduler.h"
#include "worker_pool.h"

namespace kvstore {

namespace {
// A JSON-equal but byte-different value that keeps changing under a cas()
// would make it retry forever; past this many rounds it reports contention.
constexpr int kMaxCasRounds = 1000;

std::optional<std::string_view> as_view(const std::optional<std::string>& s) {
  if (!s) return std::nullopt;
  return std::string_view(*s);
}

// Bytes of JSON text a call moved, for the observer.
template <class T>
std::size_t bytes_of(const T&) {
  return 0;
}
std::size_t bytes_of(std::size_t bytes) { return bytes; }
std::size_t bytes_of(const std::optional<std::string>& text) { return text ? text->size() : 0; }
std::size_t bytes_of(const std::vector<std::optional<std::string>>& texts) {
  std::size_t n = 0;
  for (const auto& text : texts) n += bytes_of(text);
  return n;
}
std::size_t bytes_of(const StoredEntry& entry) {
  return entry.key.size() + entry.json.size() + (entry.metadata ? entry.metadata->size() : 0);
}
std::size_t bytes_of(const std::optional<StoredEntry>& entry) {
  return entry ? bytes_of(*entry) : 0;
}
std::size_t bytes_of(const std::vector<StoredEntry>& page) {
  std::size_t n = 0;
  for (const StoredEntry& entry : page) n += bytes_of(entry);
  return n;
}
}  // namespace

std::string_view to_string(Operation operation) noexcept {
  switch (operation) {
    case Operation::get:
      return "get";
    case Operation::get_json:
      return "get_json";
    case Operation::set:
      return "set";
    case Operation::set_json:
      return "set_json";
    case Operation::remove:
      return "remove";
    case Operation::cas:
      return "cas";
    case Operation::list_page:
      return "list_page";
    case Operation::ping:
      return "ping";
    case Operation::get_many:
      return "get_many";
    case Operation::set_many:
      return "set_many";
    case Operation::remove_many:
      return "remove_many";
    case Operation::get_entry:
      return "get_entry";
    case Operation::list_keys_page:
      return "list_keys_page";
  }
  return "unknown";
}

// --- Driver ------------------------------------------------------------------

Driver::Driver(std::string name, Capabilities capabilities)
    : name_(std::move(name)), capabilities_(capabilities) {}

Driver::~Driver() = default;

void Driver::fail(ErrorCode code, std::string message) const {
  throw Error(code, std::move(message), name_);
}

std::vector<std::optional<std::string>> Driver::do_get_many(const std::vector<std::string>& keys) {
  std::vector<std::optional<std::string>> texts;
  texts.reserve(keys.size());
  for (const std::string& key : keys) texts.push_back(do_get(key));
  return texts;
}

void Driver::do_set_many(const std::vector<StoredWrite>& writes) {
  for (const StoredWrite& write : writes) do_set(write.key, write.json, write.options);
}

void Driver::do_remove_many(const std::vector<std::string>& keys) {
  for (const std::string& key : keys) do_remove(key);
}

std::optional<StoredEntry> Driver::do_get_entry(const std::string& key) {
  // No encoded key lies strictly between `key` and key + "\x01" (encoded keys
  // hold no NUL byte), so this range is exactly `key`.
  std::vector<StoredEntry> page = do_list(KeyRange{key, key + '\x01'}, 1);
  if (page.empty() || page.front().key != key) return std::nullopt;
  return std::move(page.front());
}

std::vector<StoredEntry> Driver::do_list_keys(const KeyRange& range, std::size_t limit) {
  std::vector<StoredEntry> page = do_list(range, limit);
  for (StoredEntry& entry : page) std::string().swap(entry.json);
  return page;
}

void Driver::do_ping() { (void)do_get(encode_key({"kvstore", "ping"})); }

// Parsed reads (driver.h): by default a driver hands out text only.
bool Driver::do_get_value(const std::string&, std::optional<Value>&, std::size_t&) { return false; }
bool Driver::do_get_many_values(const std::vector<std::string>&, std::vector<std::optional<Value>>&,
                                std::size_t&) {
  return false;
}

// --- KvStore -----------------------------------------------------------------

KvStore::KvStore(std::unique_ptr<Driver> driver, const StoreSettings& settings)
    : driver_(std::move(driver)) {
  if (!driver_) throw Error(ErrorCode::invalid_argument, "KvStore needs a driver");
  driver_name_ = driver_->name();
  capabilities_ = driver_->capabilities();
  capabilities_.max_value_bytes = std::min(capabilities_.max_value_bytes, kDefaultMaxValueBytes);
  capabilities_.list_page_size = std::max<std::size_t>(capabilities_.list_page_size, 1);
  if (settings.max_value_bytes) {
    if (*settings.max_value_bytes == 0 || *settings.max_value_bytes > kDefaultMaxValueBytes) {
      throw Error(ErrorCode::invalid_argument, "max_value_size must be between 1 byte and 25MiB",
                  driver_name_, false);
    }
    capabilities_.max_value_bytes = *settings.max_value_bytes;
  }
  if (settings.list_page_size) {
    if (*settings.list_page_size == 0) {
      throw Error(ErrorCode::invalid_argument, "list_page_size must be at least 1", driver_name_,
                  false);
    }
    capabilities_.list_page_size = *settings.list_page_size;
  }
  if (settings.request_timeout) {
    check_param_range(driver_name_, "request_timeout", *settings.request_timeout,
                      std::chrono::milliseconds(1), kLongestTimeout);
    request_timeout_ = *settings.request_timeout;
  }
  const std::size_t workers = settings.async_workers.value_or(8);
  const std::size_t queue = settings.async_queue.value_or(10000);
  check_param_range(driver_name_, "async_workers", workers, 1, kMaxAsyncWorkers);
  check_param_range(driver_name_, "async_queue", queue, 1, kMaxAsyncQueue);
  scheduler_ = std::make_unique<detail::Scheduler>();
  workers_ = std::make_unique<detail::WorkerPool>(workers, queue);
  driver_->workers_ = workers_.get();
}

KvStore::~KvStore() {
  // Pending async calls complete with "store destroyed"; then the workers
  // finish what they run and the driver goes (members, in reverse order).
  scheduler_->close();
  workers_->close();
  driver_->workers_ = nullptr;
}

void KvStore::set_observer(std::shared_ptr<Observer> observer) { observer_ = std::move(observer); }

template <class Call>
auto KvStore::observed(Operation operation, Call&& call) {
  using Result = decltype(call());
  if (!observer_) {
    try {
      return call();
    } catch (const Error& e) {
      if (!e.driver().empty()) throw;
      throw e.with_driver(driver_name_);
    } catch (const std::bad_alloc&) {
      throw;
    } catch (const std::exception& e) {
      // One exception type at the API: a client library's own exception
      // that a driver let through is reported, not leaked.
      throw Error(ErrorCode::internal, e.what(), driver_name_, false);
    }
  }
  const auto start = std::chrono::steady_clock::now();
  detail::retries_in_call = 0;
  CallRecord record{operation, driver_name_, {}, std::nullopt, 0, 0};
  auto report = [&] {
    record.duration = std::chrono::steady_clock::now() - start;
    record.retries = detail::retries_in_call;
    observer_->on_call(record);
  };
  try {
    if constexpr (std::is_void_v<Result>) {
      call();
      report();
    } else {
      Result result = call();
      record.bytes = bytes_of(result);
      report();
      return result;
    }
  } catch (const Error& e) {
    record.error = e.code();
    report();
    if (!e.driver().empty()) throw;
    throw e.with_driver(driver_name_);
  } catch (const std::bad_alloc&) {
    record.error = ErrorCode::internal;
    report();
    throw;
  } catch (const std::exception& e) {
    record.error = ErrorCode::internal;
    report();
    throw Error(ErrorCode::internal, e.what(), driver_name_, false);
  }
}

void KvStore::check_key(const KvKey& key, bool allow_empty) const {
  try {
    validate_key(key, allow_empty);
  } catch (const Error& e) {
    throw Error(e.code(), e.message(), driver_name_, false);
  }
}

StoredOptions KvStore::checked_options(const SetOptions& options) const {
  StoredOptions stored;
  if (options.ttl && options.ttl->count() <= 0) {
    throw Error(ErrorCode::invalid_argument,
                "ttl must be positive, got " + std::to_string(options.ttl->count()) + "ms",
                driver_name_, false);
  }
  if (options.ttl && *options.ttl > kMaxTtl) {
    throw Error(ErrorCode::invalid_argument,
                "ttl must be at most " + std::to_string(kMaxTtl.count()) + "ms (100 years), got " +
                    std::to_string(options.ttl->count()) + "ms",
                driver_name_, false);
  }
  stored.ttl = options.ttl;
  if (options.expires_at) {
    if (options.ttl) {
      throw Error(ErrorCode::invalid_argument, "give ttl or expires_at, not both", driver_name_,
                  false);
    }
    const Clock::time_point now = Clock::now();
    // Compared before rounding: rounding a time long past could overflow.
    if (*options.expires_at <= now) {
      // now - expires_at could overflow for a time far in the past.
      const bool recent = *options.expires_at > now - kMaxTtl;
      throw Error(ErrorCode::invalid_argument,
                  "expires_at must lie in the future; it is " +
                      (recent ? std::to_string(std::chrono::ceil<std::chrono::milliseconds>(
                                                   now - *options.expires_at)
                                                   .count()) +
                                    "ms"
                              : std::string("more than 100 years")) +
                      " in the past",
                  driver_name_, false);
    }
    const Clock::time_point at = std::chrono::floor<std::chrono::milliseconds>(*options.expires_at);
    if (at <= now) {
      throw Error(ErrorCode::invalid_argument,
                  "expires_at must lie in the future; to the millisecond it is now", driver_name_,
                  false);
    }
    if (at - now > kMaxTtl) {
      throw Error(
          ErrorCode::invalid_argument,
          "expires_at must be at most " + std::to_string(kMaxTtl.count()) + "ms (100 years) ahead",
          driver_name_, false);
    }
    stored.expires_at = at;
  }
  if (options.metadata) {
    try {
      stored.metadata = to_json_text(*options.metadata, kMaxMetadataBytes);
    } catch (const Error& e) {
      throw Error(e.code(), "metadata: " + e.message(), driver_name_, false);
    }
  }
  return stored;
}

std::string KvStore::checked_value_text(const Value& value) const {
  try {
    return to_json_text(value, capabilities_.max_value_bytes);
  } catch (const Error& e) {
    throw Error(e.code(), e.message(), driver_name_, false);
  }
}

std::optional<Value> KvStore::get(const KvKey& key) {
  // A driver that keeps values parsed answers with a Value (driver.h,
  // "Parsed reads"); the others give text, parsed here.
  std::optional<Value> value;
  std::optional<std::string> text;
  observed(Operation::get, [&]() -> std::size_t {
    check_key(key);
    const std::string encoded = encode_key(key);
    std::size_t bytes = 0;
    if (driver_->do_get_value(encoded, value, bytes)) return bytes;
    text = driver_->do_get(encoded);
    return text ? text->size() : 0;
  });
  if (!text) return value;
  return parse_stored_json(*text, driver_name_);
}

std::optional<std::string> KvStore::get_json(const KvKey& key) {
  return observed(Operation::get_json, [&] {
    check_key(key);
    return driver_->do_get(encode_key(key));
  });
}

void KvStore::set(const KvKey& key, const Value& value, const SetOptions& options) {
  observed(Operation::set, [&] {
    check_key(key);
    StoredOptions stored = checked_options(options);
    std::string text = checked_value_text(value);
    driver_->do_set(encode_key(key), text, stored);
    return text.size();
  });
}

void KvStore::set_json(const KvKey& key, std::string_view json, const SetOptions& options) {
  observed(Operation::set_json, [&] {
    check_key(key);
    StoredOptions stored = checked_options(options);
    try {
      validate_json_text(json, capabilities_.max_value_bytes);
    } catch (const Error& e) {
      throw Error(e.code(), e.message(), driver_name_, false);
    }
    driver_->do_set(encode_key(key), json, stored);
    return json.size();
  });
}

void KvStore::remove(const KvKey& key) {
  observed(Operation::remove, [&] {
    check_key(key);
    driver_->do_remove(encode_key(key));
  });
}

bool KvStore::cas(const KvKey& key, const std::optional<Value>& expected,
                  const std::optional<Value>& desired, const SetOptions& options) {
  return observed(Operation::cas, [&] {
    check_key(key);
    return swap_json_equal(key, expected, desired, checked_options(options));
  });
}

bool KvStore::swap_json_equal(const KvKey& key, const std::optional<Value>& expected,
                              const std::optional<Value>& desired, const StoredOptions& options) {
  std::optional<std::string> expected_text;
  if (expected) expected_text = checked_value_text(*expected);
  std::optional<std::string> desired_text;
  if (desired) desired_text = checked_value_text(*desired);
  const std::string encoded = encode_key(key);

  // Fast path: values written through set() are stored in the same canonical
  // text that to_json_text() produces, so a byte comparison usually decides.
  if (driver_->do_swap(encoded, as_view(expected_text), as_view(desired_text), options))
    return true;
  if (!expected) return false;  // it had to be absent, and the swap saw it present

  // Slow path: the stored text may differ in bytes yet be JSON-equal (written
  // by set_json, or 1.0 vs 1). Compare parsed values, then swap against the
  // exact text we compared; if that text changed meanwhile, look again.
  for (int round = 0; round < kMaxCasRounds; ++round) {
    std::optional<std::string> current = driver_->do_get(encoded);
    if (!current) return false;
    if (*current != *expected_text &&
        !json_equal(parse_stored_json(*current, driver_name_), *expected)) {
      return false;
    }
    if (driver_->do_swap(encoded, std::string_view(*current), as_view(desired_text), options)) {
      return true;
    }
  }
  throw Error(ErrorCode::conflict,
              "cas on " + to_display_string(key) + " kept losing to concurrent writers",
              driver_name_);
}

// --- Bulk calls --------------------------------------------------------------

namespace {
void check_bulk_size(std::size_t n, const char* call, const std::string& driver) {
  if (n > kMaxBulkEntries) {
    throw Error(ErrorCode::limit_exceeded,
                std::string(call) + " takes at most " + std::to_string(kMaxBulkEntries) +
                    " keys per call, got " + std::to_string(n),
                driver, false);
  }
}

// An Error about item `index` of a bulk call, saying which one it is.
Error bulk_item_error(const Error& e, const char* call, std::size_t index,
                      const std::string& driver) {
  return Error(e.code(), std::string(call) + " item " + std::to_string(index) + ": " + e.message(),
               driver, false);
}
}  // namespace

KvStore::BulkKeys KvStore::checked_bulk_keys(const std::vector<KvKey>& keys,
                                             const char* call) const {
  check_bulk_size(keys.size(), call, driver_name_);
  BulkKeys bulk;
  bulk.slot.reserve(keys.size());
  std::unordered_map<std::string, std::size_t> seen;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    try {
      check_key(keys[i]);
    } catch (const Error& e) {
      throw bulk_item_error(e, call, i, driver_name_);
    }
    std::string encoded = encode_key(keys[i]);
    auto [at, fresh] = seen.try_emplace(encoded, bulk.unique.size());
    if (fresh) bulk.unique.push_back(std::move(encoded));
    bulk.slot.push_back(at->second);
  }
  return bulk;
}

std::vector<StoredWrite> KvStore::checked_bulk_writes(const std::vector<SetEntry>& entries) const {
  check_bulk_size(entries.size(), "set_many", driver_name_);
  std::vector<StoredWrite> writes;
  writes.reserve(entries.size());
  std::unordered_map<std::string, std::size_t> seen;
  std::size_t total = 0;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    StoredWrite write;
    try {
      check_key(entries[i].key);
      write.options = checked_options(entries[i].options);
      write.json = checked_value_text(entries[i].value);
    } catch (const Error& e) {
      throw bulk_item_error(e, "set_many", i, driver_name_);
    }
    total += write.json.size();
    if (total > kMaxBulkBytes) {
      throw Error(ErrorCode::limit_exceeded,
                  "set_many writes at most " + std::to_string(kMaxBulkBytes) +
                      " bytes of JSON per call; item " + std::to_string(i) + " goes past it",
                  driver_name_, false);
    }
    write.key = encode_key(entries[i].key);
    auto [at, fresh] = seen.try_emplace(write.key, writes.size());
    if (fresh) {
      writes.push_back(std::move(write));
    } else {
      writes[at->second] = std::move(write);  // the last entry for a key wins
    }
  }
  return writes;
}

std::vector<std::optional<Value>> KvStore::values_in_order(
    std::vector<std::optional<std::string>> texts, const std::vector<std::size_t>& slot,
    const std::string& driver) {
  std::vector<std::optional<Value>> parsed;
  parsed.reserve(texts.size());
  for (const auto& text : texts) {
    parsed.push_back(text ? std::optional<Value>(parse_stored_json(*text, driver)) : std::nullopt);
  }
  if (slot.size() == parsed.size()) return parsed;  // no key repeated: slot is the identity
  std::vector<std::optional<Value>> values;
  values.reserve(slot.size());
  for (std::size_t index : slot) values.push_back(parsed[index]);
  return values;
}

void KvStore::check_bulk_reply(std::size_t got, std::size_t asked, const std::string& driver) {
  if (got != asked) {
    throw Error(
        ErrorCode::internal,
        "driver answered " + std::to_string(got) + " values for " + std::to_string(asked) + " keys",
        driver, false);
  }
}

std::vector<std::optional<Value>> KvStore::get_many(const std::vector<KvKey>& keys) {
  BulkKeys bulk;
  std::vector<std::optional<std::string>> texts;
  std::vector<std::optional<Value>> values;
  bool parsed = false;
  observed(Operation::get_many, [&]() -> std::size_t {
    bulk = checked_bulk_keys(keys, "get_many");
    if (bulk.unique.empty()) return 0;
    // A driver that keeps values parsed answers with Values, as for get().
    std::size_t bytes = 0;
    parsed = driver_->do_get_many_values(bulk.unique, values, bytes);
    if (parsed) {
      check_bulk_reply(values.size(), bulk.unique.size(), driver_name_);
      return bytes;
    }
    texts = driver_->do_get_many(bulk.unique);
    check_bulk_reply(texts.size(), bulk.unique.size(), driver_name_);
    return bytes_of(texts);
  });
  if (!parsed) return values_in_order(std::move(texts), bulk.slot, driver_name_);
  if (bulk.slot.size() == values.size()) return values;  // no key repeated
  std::vector<std::optional<Value>> in_order;
  in_order.reserve(bulk.slot.size());
  for (std::size_t index : bulk.slot) in_order.push_back(values[index]);
  return in_order;
}

void KvStore::set_many(const std::vector<SetEntry>& entries) {
  observed(Operation::set_many, [&]() -> std::size_t {
    std::vector<StoredWrite> writes = checked_bulk_writes(entries);
    if (writes.empty()) return 0;
    driver_->do_set_many(writes);
    std::size_t bytes = 0;
    for (const StoredWrite& write : writes) bytes += write.json.size();
    return bytes;
  });
}

void KvStore::remove_many(const std::vector<KvKey>& keys) {
  observed(Operation::remove_many, [&] {
    BulkKeys bulk = checked_bulk_keys(keys, "remove_many");
    if (!bulk.unique.empty()) driver_->do_remove_many(bulk.unique);
  });
}

void KvStore::ping() {
  observed(Operation::ping, [&] { driver_->do_ping(); });
}

std::vector<StoredEntry> KvStore::list_page(const KeyRange& range, std::size_t limit,
                                            bool keys_only) {
  if (keys_only) {
    return observed(Operation::list_keys_page, [&] { return driver_->do_list_keys(range, limit); });
  }
  return observed(Operation::list_page, [&] { return driver_->do_list(range, limit); });
}

std::optional<Entry> KvStore::get_entry(const KvKey& key) {
  std::string encoded;
  std::optional<StoredEntry> stored = observed(Operation::get_entry, [&] {
    check_key(key);
    encoded = encode_key(key);
    return driver_->do_get_entry(encoded);
  });
  if (!stored) return std::nullopt;
  stored->key = std::move(encoded);  // a driver may leave it empty
  Entry entry;
  detail::fill_entry(std::move(*stored), entry, driver_name_);
  return entry;
}

ListRange KvStore::list(const KvKey& prefix, const ListOptions& options) {
  check_key(prefix, /*allow_empty=*/true);
  if (options.start_after) check_key(*options.start_after);
  return ListRange(detail::ListCursorPtr(
      new detail::ListCursor(*this, alive_, list_range(prefix, options.start_after), options.limit,
                             capabilities_.list_page_size, /*keys_only=*/false)));
}

JsonListRange KvStore::list_json(const KvKey& prefix, const ListOptions& options) {
  check_key(prefix, /*allow_empty=*/true);
  if (options.start_after) check_key(*options.start_after);
  return JsonListRange(detail::ListCursorPtr(
      new detail::ListCursor(*this, alive_, list_range(prefix, options.start_after), options.limit,
                             capabilities_.list_page_size, /*keys_only=*/false)));
}

KeyListRange KvStore::list_keys(const KvKey& prefix, const ListOptions& options) {
  check_key(prefix, /*allow_empty=*/true);
  if (options.start_after) check_key(*options.start_after);
  return KeyListRange(detail::ListCursorPtr(
      new detail::ListCursor(*this, alive_, list_range(prefix, options.start_after), options.limit,
                             capabilities_.list_page_size, /*keys_only=*/true)));
}

}  // namespace kvstore
