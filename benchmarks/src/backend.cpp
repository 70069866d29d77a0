#include "backend.h"

#include <stdexcept>

namespace kvbench {

const char* to_string(Mode mode) { return mode == Mode::json ? "json" : "text"; }

const char* to_string(OpKind op) {
  switch (op) {
    case OpKind::get:
      return "get";
    case OpKind::set:
      return "set";
    case OpKind::cas:
      return "cas";
    case OpKind::list:
      return "list";
    case OpKind::get_many:
      return "get_many";
    case OpKind::set_many:
      return "set_many";
    case OpKind::list_keys:
      return "list_keys";
  }
  return "?";
}

std::size_t Session::get_many(const std::vector<KvKey>&) {
  throw std::logic_error("this backend has no bulk read");
}
void Session::set_many(const std::vector<KvKey>&, const std::vector<const Doc*>&, Ttl) {
  throw std::logic_error("this backend has no bulk write");
}
std::size_t Session::list_keys(const KvKey&) {
  throw std::logic_error("this backend has no keys-only listing");
}
void AsyncSession::list_keys(const KvKey&, Done<std::size_t>) {
  throw std::logic_error("this backend has no keys-only listing");
}
void AsyncSession::get_many(const std::vector<KvKey>&, Done<std::size_t>) {
  throw std::logic_error("this backend has no bulk read");
}
void AsyncSession::set_many(const std::vector<KvKey>&, const std::vector<const Doc*>&, Ttl,
                            DoneVoid) {
  throw std::logic_error("this backend has no bulk write");
}

void Session::load(std::size_t begin, std::size_t end, const ItemFn& item, Ttl ttl) {
  KvKey key;
  const Doc* doc = nullptr;
  for (std::size_t i = begin; i < end; ++i) {
    item(i, key, doc);
    set(key, *doc, ttl);
  }
}

std::string driver_for_scheme(const std::string& scheme) {
  if (scheme == "memory") return "memory";
  if (scheme == "sqlite") return "sqlite";
  if (scheme == "redis" || scheme == "redis+unix") return "redis";
  if (scheme == "postgres" || scheme == "postgresql") return "postgres";
  if (scheme == "mysql" || scheme == "mariadb") return "mysql";
  return "";
}

// Each raw baseline lives in its own file, compiled only when its client
// library was found and its kvstore driver option is on.
#ifdef KVBENCH_RAW_SQLITE
std::unique_ptr<Backend> make_raw_sqlite(const std::string& url);
#endif
#ifdef KVBENCH_RAW_REDIS
std::unique_ptr<Backend> make_raw_redis(const std::string& url);
#endif
#ifdef KVBENCH_RAW_POSTGRES
std::unique_ptr<Backend> make_raw_postgres(const std::string& url);
#endif
#ifdef KVBENCH_RAW_MYSQL
std::unique_ptr<Backend> make_raw_mysql(const std::string& url);
#endif

bool raw_backend_built(const std::string& driver) {
#ifdef KVBENCH_RAW_SQLITE
  if (driver == "sqlite") return true;
#endif
#ifdef KVBENCH_RAW_REDIS
  if (driver == "redis") return true;
#endif
#ifdef KVBENCH_RAW_POSTGRES
  if (driver == "postgres") return true;
#endif
#ifdef KVBENCH_RAW_MYSQL
  if (driver == "mysql") return true;
#endif
  (void)driver;
  return false;
}

std::unique_ptr<Backend> make_raw_backend(const std::string& driver, const std::string& url) {
#ifdef KVBENCH_RAW_SQLITE
  if (driver == "sqlite") return make_raw_sqlite(url);
#endif
#ifdef KVBENCH_RAW_REDIS
  if (driver == "redis") return make_raw_redis(url);
#endif
#ifdef KVBENCH_RAW_POSTGRES
  if (driver == "postgres") return make_raw_postgres(url);
#endif
#ifdef KVBENCH_RAW_MYSQL
  if (driver == "mysql") return make_raw_mysql(url);
#endif
  (void)url;
  throw std::runtime_error("no raw " + driver +
                           " baseline in this build (client library not found or "
                           "KVSTORE_WITH_" +
                           driver + " off)");
}

}  // namespace kvbench
