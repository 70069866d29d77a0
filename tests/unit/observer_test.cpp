// The observer hook and the API boundary: every call is reported with its
// operation, driver, outcome and bytes; errors are attributed to the driver.
#include <catch2/catch.hpp>

#include <mutex>
#include <vector>

#include <kvstore/kvstore.h>
#include <kvstore/memory.h>

using kvstore::CallRecord;
using kvstore::ErrorCode;
using kvstore::Operation;

namespace {
class Recorder final : public kvstore::Observer {
 public:
  void on_call(const CallRecord& call) noexcept override {
    std::lock_guard lock(mutex_);
    calls_.push_back({call.operation, call.error, call.bytes, std::string(call.driver)});
    CHECK(call.duration.count() >= 0);
  }
  struct Seen {
    Operation operation;
    std::optional<ErrorCode> error;
    std::size_t bytes;
    std::string driver;
  };
  std::vector<Seen> take() {
    std::lock_guard lock(mutex_);
    return std::exchange(calls_, {});
  }

 private:
  std::mutex mutex_;
  std::vector<Seen> calls_;
};
}  // namespace

TEST_CASE("observer: sees each call with its operation, outcome and bytes", "[observer]") {
  auto store = kvstore::open("memory:?list_page_size=2");
  auto recorder = std::make_shared<Recorder>();
  store->set_observer(recorder);

  store->set({"a"}, "xyz");         // "xyz" with quotes: 5 bytes
  store->set_json({"b"}, "[1,2]");  // 5 bytes
  CHECK(store->get({"a"}) == kvstore::Value("xyz"));
  CHECK(store->get_json({"missing"}) == std::nullopt);
  CHECK(store->cas({"a"}, kvstore::Value("xyz"), kvstore::Value(1)));
  store->remove({"b"});
  store->ping();
  CHECK_THROWS_AS(store->set({}, 1), kvstore::Error);
  for (int i = 0; i < 3; ++i) store->set({"l", std::to_string(i)}, i);
  (void)store->list({"l"}).to_vector();

  std::vector<Recorder::Seen> calls = recorder->take();
  REQUIRE(calls.size() >= 13);
  CHECK(calls[0].operation == Operation::set);
  CHECK(calls[0].bytes == 5);
  CHECK(calls[0].driver == "memory");
  CHECK(calls[1].operation == Operation::set_json);
  CHECK(calls[1].bytes == 5);
  CHECK(calls[2].operation == Operation::get);
  CHECK(calls[2].bytes == 5);
  CHECK(calls[3].operation == Operation::get_json);
  CHECK(calls[3].bytes == 0);
  CHECK(calls[4].operation == Operation::cas);
  CHECK(calls[5].operation == Operation::remove);
  CHECK(calls[6].operation == Operation::ping);
  CHECK(calls[7].operation == Operation::set);
  CHECK(calls[7].error == ErrorCode::invalid_argument);
  for (std::size_t i = 0; i < 7; ++i) CHECK_FALSE(calls[i].error.has_value());
  // Three entries in pages of two: two list_page calls.
  std::size_t pages = 0;
  for (const auto& call : calls) pages += call.operation == Operation::list_page;
  CHECK(pages == 2);
  CHECK(kvstore::to_string(Operation::list_page) == "list_page");

  store->set_observer(nullptr);
  store->set({"quiet"}, 1);
  CHECK(recorder->take().empty());
}

TEST_CASE("boundary: a list range moved after begin() keeps iterating", "[observer][list]") {
  auto store = kvstore::open("memory:?list_page_size=2");
  for (int i = 0; i < 5; ++i) store->set({"m", std::to_string(i)}, i);
  kvstore::ListRange first = store->list({"m"});
  auto it = first.begin();
  CHECK(it->value == 0);
  kvstore::ListRange moved = std::move(first);
  int expected = 1;
  for (++it; it != moved.end(); ++it) CHECK(it->value == expected++);
  CHECK(expected == 5);
}

TEST_CASE("boundary: open() does no I/O and ping() checks the backend", "[observer][registry]") {
  // Nothing listens on port 1: open succeeds (the store connects lazily),
  // ping and the first call fail with a retryable connection error.
  const std::vector<std::string> schemes = kvstore::registered_schemes();
  for (const char* url : {"redis://127.0.0.1:1/0?connect_timeout=200ms",
                          "postgres://u@127.0.0.1:1/db?connect_timeout=200ms",
                          "mysql://u:p@127.0.0.1:1/db?connect_timeout=200ms"}) {
    const std::string scheme = kvstore::Url::parse(url).scheme();
    if (std::find(schemes.begin(), schemes.end(), scheme) == schemes.end()) continue;
    INFO(url);
    auto store = kvstore::open(url);
    try {
      store->ping();
      FAIL("ping succeeded");
    } catch (const kvstore::Error& e) {
      CHECK((e.code() == ErrorCode::unavailable || e.code() == ErrorCode::timeout));
      CHECK(e.retryable());
      CHECK(e.driver() == store->driver_name());
    }
  }
}
