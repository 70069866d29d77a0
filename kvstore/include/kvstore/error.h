// kvstore::Error — the one exception type every kvstore call throws.
//
// Absent keys and failed compare-and-swaps are ordinary return values, never
// errors. Everything else that goes wrong surfaces as an Error carrying:
//   - code():      what kind of failure it is (ErrorCode below);
//   - driver():    which driver raised it ("memory", "redis", ...; "" for the core);
//   - retryable(): whether the same call may succeed if repeated later;
//   - native_code(): the backend's own code (SQLSTATE, MySQL errno, Redis
//     error prefix), "" when there is none;
//   - outcome_unknown(): a write or cas whose request may have reached the
//     server, but whose reply was lost: it may or may not have taken effect,
//     so it is never retried silently.
// Messages never contain passwords: URLs are redacted before they are quoted.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace kvstore {

enum class ErrorCode {
  invalid_argument,   // the caller passed a key, value, option or URL the contract rejects
  limit_exceeded,     // a key or value is larger than the store allows
  unsupported,        // the driver or build does not offer this (e.g. scheme not compiled in)
  unavailable,        // the backend cannot be reached or refused the connection
  timeout,            // the backend did not answer within the configured time
  conflict,           // contention prevented the operation from completing; retry
  corrupt,            // stored data is not what kvstore wrote (e.g. not valid JSON)
  permission_denied,  // the backend refused the operation (credentials, read-only file)
  internal,           // anything else: a backend error kvstore did not expect
  cancelled,          // the caller cancelled an asynchronous call (its stop_token)
};

// "invalid_argument", "unavailable", ...
std::string_view to_string(ErrorCode code) noexcept;

// Whether an error of this code is worth retrying, unless a driver says otherwise:
// true for unavailable, timeout and conflict.
bool is_retryable_by_default(ErrorCode code) noexcept;

class Error : public std::runtime_error {
 public:
  // `message` should say what failed and why, without the driver name or code:
  // what() renders them as "kvstore[redis] unavailable: <message>".
  Error(ErrorCode code, std::string message, std::string driver = {});
  Error(ErrorCode code, std::string message, std::string driver, bool retryable);
  Error(ErrorCode code, std::string message, std::string driver, bool retryable,
        std::string native_code, bool outcome_unknown = false);

  // This error attributed to `driver` (used where a driver name is known
  // only at the API boundary). Everything else is kept.
  Error with_driver(std::string driver) const;

  ErrorCode code() const noexcept { return code_; }
  // The driver that raised the error; empty when raised by the core.
  const std::string& driver() const noexcept { return driver_; }
  // The message without the "kvstore[driver] code: " decoration.
  const std::string& message() const noexcept { return message_; }
  // True when repeating the same call later may succeed.
  bool retryable() const noexcept { return retryable_; }
  // The backend's code: a SQLSTATE ("40001"), a MySQL errno ("1213"), a Redis
  // error prefix ("WRONGPASS"); "" for errors kvstore raised itself.
  const std::string& native_code() const noexcept { return native_code_; }
  // True when a write or cas may or may not have been applied (the connection
  // broke after the request was sent). Distinct from retryable(): repeating
  // such a call is safe only if it is idempotent for the caller.
  bool outcome_unknown() const noexcept { return outcome_unknown_; }

 private:
  ErrorCode code_;
  std::string driver_;
  std::string message_;
  bool retryable_;
  std::string native_code_;
  bool outcome_unknown_ = false;
};

}  // namespace kvstore
