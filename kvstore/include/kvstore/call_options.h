// CallOptions: the deadline and cancellation of one asynchronous call.
#pragma once

#include <chrono>
#include <optional>
#include <stop_token>

namespace kvstore {

struct CallOptions {
  // How long the call may take from its start, queueing included.
  // std::nullopt: the store's request_timeout (a URL parameter, 30s by
  // default). At most 1 hour. Past it the call completes with
  // Error(timeout); a write or cas may then have been applied or not
  // (Error::outcome_unknown()).
  std::optional<std::chrono::milliseconds> timeout;
  // Requesting a stop completes the call with Error(cancelled) at once, if
  // it has not completed yet. A write or cas already handed to the backend
  // may still take effect (the Error says outcome_unknown()).
  std::stop_token stop;
};

}  // namespace kvstore
