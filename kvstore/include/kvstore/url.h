// Url: a parsed store URL, and the query parameters a driver takes from it.
//
//   scheme:[//[user[:password]@]host[:port]][/path][?name=value&...]
//
// Every part is percent-decoded. Forms without "//" ("memory:",
// "sqlite::memory:", "sqlite:data/kv.db") keep everything after the colon as
// the path. A driver takes each query parameter it understands with the
// take_* members; the registry then rejects whatever is left, so an unknown
// or misspelt parameter is an error instead of being ignored.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kvstore {

// "250us" (rounded up to ms), "500ms", "5s", "2m", "1h"; "0" alone is allowed.
// std::nullopt if the text is not such a duration.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);
// "1h", "5s", "1500ms": the shortest exact rendering, for messages and docs.
std::string format_duration(std::chrono::milliseconds duration);
// "4096", "64KiB"/"64K", "8MiB"/"8M", "1GiB"/"1G"; std::nullopt if not a size.
std::optional<std::size_t> parse_size(std::string_view text);

class Url {
 public:
  // Throws Error(invalid_argument) for a malformed URL (no scheme, bad
  // percent-escape, bad port, repeated parameter, ...). The message never
  // contains the password.
  static Url parse(std::string_view text);

  const std::string& scheme() const noexcept { return scheme_; }  // lower-case
  bool has_authority() const noexcept { return has_authority_; }  // "//" present
  const std::string& user() const noexcept { return user_; }
  const std::optional<std::string>& password() const noexcept { return password_; }
  const std::string& host() const noexcept { return host_; }  // IPv6 without brackets
  std::optional<std::uint16_t> port() const noexcept { return port_; }
  const std::string& path() const noexcept { return path_; }

  // The URL as given, with any password replaced by "***". Safe to log.
  const std::string& redacted() const noexcept { return redacted_; }

  // Query parameters not taken yet, in URL order.
  const std::vector<std::pair<std::string, std::string>>& remaining_params() const noexcept {
    return params_;
  }

  // Each take_* removes the parameter `name` and returns its value, or
  // std::nullopt if absent; a value that does not parse throws
  // Error(invalid_argument) naming the parameter.
  std::optional<std::string> take(std::string_view name);
  // An integer in [min, max].
  std::optional<std::int64_t> take_int(std::string_view name, std::int64_t min, std::int64_t max);
  // true/false/1/0/yes/no/on/off.
  std::optional<bool> take_bool(std::string_view name);
  // A duration with a unit: "250us" (rounded up to ms), "500ms", "5s", "2m",
  // "1h"; "0" alone is allowed. It must lie in [min, max]: every duration
  // parameter has a documented range, so no deadline computed from it can
  // overflow.
  std::optional<std::chrono::milliseconds> take_duration(std::string_view name,
                                                         std::chrono::milliseconds min,
                                                         std::chrono::milliseconds max);
  // A byte size: "4096", "64KiB"/"64K", "8MiB"/"8M", "1GiB"/"1G".
  std::optional<std::size_t> take_size(std::string_view name);

  // Throws Error(invalid_argument) listing any parameter not taken, and the
  // parameters `driver` does accept if given.
  void reject_unknown_params(std::string_view driver) const;

 private:
  std::string scheme_;
  bool has_authority_ = false;
  std::string user_;
  std::optional<std::string> password_;
  std::string host_;
  std::optional<std::uint16_t> port_;
  std::string path_;
  std::string redacted_;
  std::vector<std::pair<std::string, std::string>> params_;
};

}  // namespace kvstore
