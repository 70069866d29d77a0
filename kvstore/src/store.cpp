#include <kvstore/store.h>

#include <algorithm>

#include <kvstore/error.h>

namespace kvstore {

namespace {
// A JSON-equal but byte-different value that keeps changing under a cas()
// would make it retry forever; past this many rounds it reports contention.
constexpr int kMaxCasRounds = 1000;
}  // namespace

KvStore::KvStore(std::string driver_name, Capabilities capabilities)
    : driver_name_(std::move(driver_name)), capabilities_(capabilities) {
  capabilities_.max_value_bytes = std::min(capabilities_.max_value_bytes, kDefaultMaxValueBytes);
  capabilities_.list_page_size = std::max<std::size_t>(capabilities_.list_page_size, 1);
}

KvStore::~KvStore() = default;

void KvStore::fail(ErrorCode code, std::string message) const {
  throw Error(code, std::move(message), driver_name_);
}

void KvStore::check_key(const KvKey& key, bool allow_empty) const {
  try {
    validate_key(key, allow_empty);
  } catch (const Error& e) {
    throw Error(e.code(), e.message(), driver_name_, false);
  }
}

KvStore::Ttl KvStore::checked_ttl(const SetOptions& options) const {
  if (options.ttl && options.ttl->count() <= 0) {
    fail(ErrorCode::invalid_argument,
         "ttl must be positive, got " + std::to_string(options.ttl->count()) + "ms");
  }
  if (options.ttl && *options.ttl > kMaxTtl) {
    fail(ErrorCode::invalid_argument, "ttl must be at most " + std::to_string(kMaxTtl.count()) +
                                          "ms (100 years), got " +
                                          std::to_string(options.ttl->count()) + "ms");
  }
  return options.ttl;
}

std::string KvStore::checked_value_text(const Value& value) const {
  try {
    return to_json_text(value, capabilities_.max_value_bytes);
  } catch (const Error& e) {
    throw Error(e.code(), e.message(), driver_name_, false);
  }
}

void KvStore::set_max_value_bytes(std::size_t bytes) {
  if (bytes == 0 || bytes > kDefaultMaxValueBytes) {
    fail(ErrorCode::invalid_argument, "max_value_size must be between 1 byte and 25MiB");
  }
  capabilities_.max_value_bytes = bytes;
}

void KvStore::set_list_page_size(std::size_t entries) {
  if (entries == 0) fail(ErrorCode::invalid_argument, "list_page_size must be at least 1");
  capabilities_.list_page_size = entries;
}

std::optional<Value> KvStore::get(const KvKey& key) {
  std::optional<std::string> text = get_json(key);
  if (!text) return std::nullopt;
  return parse_stored_json(*text, driver_name_);
}

std::optional<std::string> KvStore::get_json(const KvKey& key) {
  check_key(key);
  return do_get(encode_key(key));
}

void KvStore::set(const KvKey& key, const Value& value, const SetOptions& options) {
  check_key(key);
  Ttl ttl = checked_ttl(options);
  std::string text = checked_value_text(value);
  do_set(encode_key(key), text, ttl);
}

void KvStore::set_json(const KvKey& key, std::string_view json, const SetOptions& options) {
  check_key(key);
  Ttl ttl = checked_ttl(options);
  try {
    validate_json_text(json, capabilities_.max_value_bytes);
  } catch (const Error& e) {
    throw Error(e.code(), e.message(), driver_name_, false);
  }
  do_set(encode_key(key), json, ttl);
}

void KvStore::remove(const KvKey& key) {
  check_key(key);
  do_remove(encode_key(key));
}

bool KvStore::cas(const KvKey& key, const std::optional<Value>& expected,
                  const std::optional<Value>& desired, const SetOptions& options) {
  check_key(key);
  Ttl ttl = checked_ttl(options);
  std::optional<std::string> expected_text;
  if (expected) expected_text = checked_value_text(*expected);
  std::optional<std::string> desired_text;
  if (desired) desired_text = checked_value_text(*desired);
  const std::string encoded = encode_key(key);
  auto as_view = [](const std::optional<std::string>& s) -> std::optional<std::string_view> {
    if (!s) return std::nullopt;
    return std::string_view(*s);
  };

  // Fast path: values written through set() are stored in the same canonical
  // text that to_json_text() produces, so a byte comparison usually decides.
  if (do_swap(encoded, as_view(expected_text), as_view(desired_text), ttl)) return true;
  if (!expected) return false;  // it had to be absent, and the swap saw it present

  // Slow path: the stored text may differ in bytes yet be JSON-equal (written
  // by set_json, or 1.0 vs 1). Compare parsed values, then swap against the
  // exact text we compared; if that text changed meanwhile, look again.
  for (int round = 0; round < kMaxCasRounds; ++round) {
    std::optional<std::string> current = do_get(encoded);
    if (!current) return false;
    if (*current != *expected_text &&
        !json_equal(parse_stored_json(*current, driver_name_), *expected)) {
      return false;
    }
    if (do_swap(encoded, std::string_view(*current), as_view(desired_text), ttl)) return true;
  }
  throw Error(ErrorCode::conflict,
              "cas on " + to_display_string(key) + " kept losing to concurrent writers",
              driver_name_);
}

ListRange KvStore::list(const KvKey& prefix, const ListOptions& options) {
  check_key(prefix, /*allow_empty=*/true);
  if (options.start_after) check_key(*options.start_after);
  return ListRange(*this, list_range(prefix, options.start_after), options.limit,
                   capabilities_.list_page_size);
}

JsonListRange KvStore::list_json(const KvKey& prefix, const ListOptions& options) {
  check_key(prefix, /*allow_empty=*/true);
  if (options.start_after) check_key(*options.start_after);
  return JsonListRange(*this, list_range(prefix, options.start_after), options.limit,
                       capabilities_.list_page_size);
}

}  // namespace kvstore
