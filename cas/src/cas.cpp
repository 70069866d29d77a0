#include <kvstore/cas.h>

#include <limits>
#include <random>

#include <kvstore/error.h>

namespace kvstore::recipes {

namespace {
std::string random_token() {
  static thread_local std::mt19937_64 generator{std::random_device{}()};
  char buffer[33];
  std::snprintf(buffer, sizeof buffer, "%016llx%016llx",
                static_cast<unsigned long long>(generator()),
                static_cast<unsigned long long>(generator()));
  return buffer;
}
}  // namespace

std::optional<Value> update(KvStore& store, const KvKey& key,
                            const std::function<std::optional<Value>(const std::optional<Value>&)>& fn,
                            const SetOptions& options, int max_attempts) {
  for (int attempt = 0; attempt < max_attempts; ++attempt) {
    std::optional<Value> current = store.get(key);
    std::optional<Value> next = fn(current);
    if (store.cas(key, current, next, options)) return next;
  }
  throw Error(ErrorCode::conflict,
              "update of " + to_display_string(key) + " lost to concurrent writers " +
                  std::to_string(max_attempts) + " times",
              store.driver_name());
}

bool set_if_absent(KvStore& store, const KvKey& key, const Value& value, const SetOptions& options) {
  return store.cas(key, std::nullopt, value, options);
}

std::int64_t increment(KvStore& store, const KvKey& key, std::int64_t delta,
                       const SetOptions& options, int max_attempts) {
  std::int64_t result = 0;
  update(
      store, key,
      [&](const std::optional<Value>& current) -> std::optional<Value> {
        std::int64_t value = 0;
        if (current) {
          bool fits = current->is_number_integer() &&
                      (current->is_number_unsigned()
                           ? current->get<std::uint64_t>() <=
                                 static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())
                           : true);
          if (!fits) {
            throw Error(ErrorCode::invalid_argument,
                        "counter " + to_display_string(key) + " does not hold a 64-bit integer",
                        store.driver_name());
          }
          value = current->get<std::int64_t>();
        }
        if ((delta > 0 && value > std::numeric_limits<std::int64_t>::max() - delta) ||
            (delta < 0 && value < std::numeric_limits<std::int64_t>::min() - delta)) {
          throw Error(ErrorCode::limit_exceeded, "counter " + to_display_string(key) + " would overflow",
                      store.driver_name());
        }
        result = value + delta;
        return Value(result);
      },
      options, max_attempts);
  return result;
}

Lease::Lease(KvStore& store, KvKey key, std::chrono::milliseconds ttl)
    : store_(&store), key_(std::move(key)), ttl_(ttl), token_(random_token()) {}

bool Lease::try_acquire() { return store_->cas(key_, std::nullopt, token_, {ttl_}); }

bool Lease::renew() { return store_->cas(key_, Value(token_), token_, {ttl_}); }

bool Lease::release() { return store_->cas(key_, Value(token_), std::nullopt); }

}  // namespace kvstore::recipes
