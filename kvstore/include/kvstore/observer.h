// Observer: a hook that sees every call a store makes, for metrics and
// tracing.
//
//   class Metrics final : public kvstore::Observer {
//     void on_call(const kvstore::CallRecord& call) noexcept override { ... }
//   };
//   store->set_observer(std::make_shared<Metrics>());
//
// on_call() runs on the thread that made the call, after the call finished
// and before it returns (or throws); for an async call, on the store thread
// that completes it, just before its callback (retries and bytes are 0 there). It must be fast and
// must not call the store. A store without an observer pays nothing for the hook: no clock is read.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string_view>

#include <kvstore/error.h>

namespace kvstore {

enum class Operation {
  get,             // get() and get_as()
  get_json,        // get_json()
  set,             // set()
  set_json,        // set_json()
  remove,          // remove()
  cas,             // cas(), including its reads of the current value
  list_page,       // one page fetched by a list() or list_json() range
  ping,            // ping()
  get_many,        // get_many()
  set_many,        // set_many()
  remove_many,     // remove_many()
  get_entry,       // get_entry()
  list_keys_page,  // one page fetched by a list_keys() range
};

// "get", "get_json", ...
std::string_view to_string(Operation operation) noexcept;

struct CallRecord {
  Operation operation;
  std::string_view driver;
  std::chrono::nanoseconds duration;
  std::optional<ErrorCode> error;  // std::nullopt: the call succeeded
  int retries = 0;                 // repeated backend requests (reconnects, transient errors)
  std::size_t bytes = 0;           // JSON text read or written
};

class Observer {
 public:
  virtual ~Observer() = default;
  virtual void on_call(const CallRecord& call) noexcept = 0;
};

}  // namespace kvstore
