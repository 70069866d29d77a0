#include <kvstore/error.h>

#include <utility>

namespace kvstore {

std::string_view to_string(ErrorCode code) noexcept {
  switch (code) {
    case ErrorCode::invalid_argument:
      return "invalid_argument";
    case ErrorCode::limit_exceeded:
      return "limit_exceeded";
    case ErrorCode::unsupported:
      return "unsupported";
    case ErrorCode::unavailable:
      return "unavailable";
    case ErrorCode::timeout:
      return "timeout";
    case ErrorCode::conflict:
      return "conflict";
    case ErrorCode::corrupt:
      return "corrupt";
    case ErrorCode::permission_denied:
      return "permission_denied";
    case ErrorCode::internal:
      return "internal";
    case ErrorCode::cancelled:
      return "cancelled";
  }
  return "unknown";
}

bool is_retryable_by_default(ErrorCode code) noexcept {
  return code == ErrorCode::unavailable || code == ErrorCode::timeout ||
         code == ErrorCode::conflict;
}

namespace {
std::string render(ErrorCode code, const std::string& message, const std::string& driver) {
  std::string out = "kvstore";
  if (!driver.empty()) out += "[" + driver + "]";
  out += " ";
  out += to_string(code);
  out += ": ";
  out += message;
  return out;
}
}  // namespace

Error::Error(ErrorCode code, std::string message, std::string driver)
    : Error(code, std::move(message), std::move(driver), is_retryable_by_default(code)) {}

Error::Error(ErrorCode code, std::string message, std::string driver, bool retryable)
    : std::runtime_error(render(code, message, driver)),
      code_(code),
      driver_(std::move(driver)),
      message_(std::move(message)),
      retryable_(retryable) {}

Error::Error(ErrorCode code, std::string message, std::string driver, bool retryable,
             std::string native_code, bool outcome_unknown)
    : Error(code, std::move(message), std::move(driver), retryable) {
  native_code_ = std::move(native_code);
  outcome_unknown_ = outcome_unknown;
}

Error Error::with_driver(std::string driver) const {
  return Error(code_, message_, std::move(driver), retryable_, native_code_, outcome_unknown_);
}

}  // namespace kvstore
