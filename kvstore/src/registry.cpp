// The registry lives in the umbrella library kvstore::kvstore, which links
// every driver built; KVSTORE_WITH_<DRIVER> says which ones those are.
#include <kvstore/registry.h>

#include <map>
#include <mutex>

#include <kvstore/error.h>

#ifdef KVSTORE_WITH_MEMORY
#include <kvstore/memory.h>
#endif
#ifdef KVSTORE_WITH_SQLITE
#include <kvstore/sqlite.h>
#endif
#ifdef KVSTORE_WITH_REDIS
#include <kvstore/redis.h>
#endif
#ifdef KVSTORE_WITH_POSTGRES
#include <kvstore/postgres.h>
#endif
#ifdef KVSTORE_WITH_MYSQL
#include <kvstore/mysql.h>
#endif

namespace kvstore {

namespace {

struct Registry {
  std::mutex mutex;
  std::map<std::string, DriverFactory, std::less<>> factories;
};

void add_builtins(Registry& registry) {
  auto add = [&](const char* scheme, DriverFactory factory) {
    registry.factories.emplace(scheme, std::move(factory));
  };
#ifdef KVSTORE_WITH_MEMORY
  add("memory", &memory::open);
#endif
#ifdef KVSTORE_WITH_SQLITE
  add("sqlite", &sqlite::open);
#endif
#ifdef KVSTORE_WITH_REDIS
  add("redis", &redis::open);
  add("redis+unix", &redis::open);
#endif
#ifdef KVSTORE_WITH_POSTGRES
  add("postgres", &postgres::open);
  add("postgresql", &postgres::open);
#endif
#ifdef KVSTORE_WITH_MYSQL
  add("mysql", &mysql::open);
  add("mariadb", &mysql::open);
#endif
  (void)add;
}

Registry& registry() {
  static Registry* instance = [] {
    auto* r = new Registry;  // never destroyed: stores may be opened during static destruction
    add_builtins(*r);
    return r;
  }();
  return *instance;
}

// The driver a known scheme belongs to, for "not compiled in" messages.
const char* builtin_driver_for(std::string_view scheme) {
  static const std::map<std::string, const char*, std::less<>> known = {
      {"memory", "memory"},    {"sqlite", "sqlite"},     {"redis", "redis"},
      {"redis+unix", "redis"}, {"postgres", "postgres"}, {"postgresql", "postgres"},
      {"mysql", "mysql"},      {"mariadb", "mysql"},
  };
  auto it = known.find(scheme);
  return it == known.end() ? nullptr : it->second;
}

std::string normalized_scheme(std::string_view scheme) {
  std::string out(scheme);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (!out.empty() && out.back() == ':') out.pop_back();
  return out;
}

}  // namespace

std::unique_ptr<KvStore> open(std::string_view text) {
  Url url = Url::parse(text);
  DriverFactory factory;
  {
    Registry& r = registry();
    std::lock_guard lock(r.mutex);
    auto it = r.factories.find(url.scheme());
    if (it != r.factories.end()) factory = it->second;
  }
  if (!factory) {
    if (const char* driver = builtin_driver_for(url.scheme())) {
      std::string option = driver;
      for (char& c : option) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      throw Error(ErrorCode::unsupported,
                  "the " + std::string(driver) + " driver (scheme '" + url.scheme() +
                      ":') is not compiled into this build; configure with -DKVSTORE_WITH_" +
                      option + "=ON");
    }
    std::string schemes;
    for (const std::string& scheme : registered_schemes()) {
      schemes += (schemes.empty() ? "" : ", ") + scheme + ":";
    }
    throw Error(ErrorCode::unsupported, "unknown URL scheme '" + url.scheme() + ":' in " +
                                            url.redacted() + "; registered schemes: " + schemes);
  }
  std::optional<std::size_t> max_value_size = url.take_size("max_value_size");
  std::optional<std::int64_t> list_page_size = url.take_int("list_page_size", 1, 100000);
  std::unique_ptr<KvStore> store;
  try {
    store = factory(url);
  } catch (const Error& e) {
    // Every error names its driver, including those a factory raises
    // through Url::take_* before it has a store to name itself.
    if (!e.driver().empty()) throw;
    const char* builtin = builtin_driver_for(url.scheme());
    throw Error(e.code(), e.message(), builtin != nullptr ? builtin : url.scheme(), e.retryable());
  }
  if (!store) {
    throw Error(ErrorCode::internal, "the driver for '" + url.scheme() + ":' returned no store");
  }
  url.reject_unknown_params(store->driver_name());
  if (max_value_size) store->set_max_value_bytes(*max_value_size);
  if (list_page_size) store->set_list_page_size(static_cast<std::size_t>(*list_page_size));
  return store;
}

void register_driver(std::string_view scheme, DriverFactory factory) {
  std::string name = normalized_scheme(scheme);
  if (name.empty() || !factory) {
    throw Error(ErrorCode::invalid_argument, "register_driver needs a scheme and a factory");
  }
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  if (!r.factories.emplace(name, std::move(factory)).second) {
    throw Error(ErrorCode::invalid_argument, "URL scheme '" + name + ":' is already registered");
  }
}

bool unregister_driver(std::string_view scheme) {
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  auto it = r.factories.find(normalized_scheme(scheme));
  if (it == r.factories.end()) return false;
  r.factories.erase(it);
  return true;
}

std::vector<std::string> registered_schemes() {
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  std::vector<std::string> out;
  for (const auto& entry : r.factories) out.push_back(entry.first);
  return out;
}

}  // namespace kvstore
