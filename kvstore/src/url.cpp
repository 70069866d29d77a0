#include <kvstore/url.h>

#include <algorithm>
#include <cctype>
#include <limits>

#include <kvstore/error.h>

namespace kvstore {

namespace {

[[noreturn]] void bad_url(const std::string& what) {
  throw Error(ErrorCode::invalid_argument, "invalid URL: " + what);
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// `part` names the URL part in the error message; the text itself is never
// quoted because it may be a password.
std::string percent_decode(std::string_view text, const char* part) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    int high = i + 2 < text.size() ? hex_digit(text[i + 1]) : -1;
    int low = i + 2 < text.size() ? hex_digit(text[i + 2]) : -1;
    if (high < 0 || low < 0) bad_url(std::string("bad percent-escape in the ") + part);
    out += static_cast<char>(high * 16 + low);
    i += 2;
  }
  return out;
}

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool all_digits(std::string_view text) {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c); });
}

// Parses a non-negative decimal integer, rejecting overflow.
std::optional<std::uint64_t> parse_unsigned(std::string_view digits) {
  if (!all_digits(digits)) return std::nullopt;
  std::uint64_t value = 0;
  for (char c : digits) {
    std::uint64_t digit = static_cast<std::uint64_t>(c - '0');
    if (value > (std::numeric_limits<std::uint64_t>::max() - digit) / 10) return std::nullopt;
    value = value * 10 + digit;
  }
  return value;
}

// Whether a query parameter's value may be a secret and must not be echoed.
bool is_secret_param(std::string_view name) {
  const std::string lowered = lower(name);
  for (const char* word : {"pass", "pwd", "secret", "token", "auth", "credential"}) {
    if (lowered.find(word) != std::string::npos) return true;
  }
  return false;
}

// `path` for messages: a URL without "//" (or with a stray '/' in its user
// name or password) can carry "user:password@" in what parses as the path,
// so everything up to the last '@' is hidden.
std::string redacted_path(std::string_view path) {
  std::size_t at = path.rfind('@');
  if (at == std::string_view::npos) return std::string(path);
  std::size_t start = path.find_first_not_of('/');
  if (start == std::string_view::npos || start > at) start = at;
  return std::string(path.substr(0, start)) + "***" + std::string(path.substr(at));
}

[[noreturn]] void bad_param(std::string_view name, const std::string& expected) {
  throw Error(ErrorCode::invalid_argument,
              "URL parameter '" + std::string(name) + "' must be " + expected);
}

}  // namespace

Url Url::parse(std::string_view text) {
  Url url;
  std::size_t colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0) bad_url("missing scheme (e.g. \"memory:\")");
  std::string_view scheme = text.substr(0, colon);
  if (!std::isalpha(static_cast<unsigned char>(scheme[0])) ||
      !std::all_of(scheme.begin(), scheme.end(), [](unsigned char c) {
        return std::isalnum(c) || c == '+' || c == '-' || c == '.';
      })) {
    bad_url("malformed scheme");
  }
  url.scheme_ = lower(scheme);
  std::string_view rest = text.substr(colon + 1);
  std::string redacted = std::string(scheme) + ":";

  if (rest.find('#') != std::string_view::npos) bad_url("fragments ('#') are not supported");
  std::string_view query;
  if (std::size_t q = rest.find('?'); q != std::string_view::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }

  if (rest.substr(0, 2) == "//") {
    url.has_authority_ = true;
    rest.remove_prefix(2);
    std::size_t slash = rest.find('/');
    std::string_view authority = rest.substr(0, slash);
    rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
    redacted += "//";
    if (std::size_t at = authority.rfind('@'); at != std::string_view::npos) {
      std::string_view userinfo = authority.substr(0, at);
      authority.remove_prefix(at + 1);
      std::size_t split = userinfo.find(':');
      std::string_view user = userinfo.substr(0, split);
      url.user_ = percent_decode(user, "user name");
      if (split != std::string_view::npos) {
        url.password_ = percent_decode(userinfo.substr(split + 1), "password");
      }
      // A user name is shown only next to a password of its own: alone it may
      // be a password written in the user's place ("redis://SECRET@host"),
      // or one that swallowed the password through an encoded ':'.
      const bool user_may_be_secret = !url.password_ || url.user_.find(':') != std::string::npos;
      redacted += user_may_be_secret ? "***" : std::string(user) + ":***";
      redacted += "@";
    }
    redacted += std::string(authority);
    std::string_view host = authority;
    std::string_view port;
    if (!host.empty() && host.front() == '[') {
      std::size_t close = host.find(']');
      if (close == std::string_view::npos) bad_url("unclosed '[' in the host");
      std::string_view after = host.substr(close + 1);
      host = host.substr(1, close - 1);
      if (!after.empty()) {
        if (after.front() != ':') bad_url("unexpected text after the IPv6 host");
        port = after.substr(1);
        if (port.empty()) bad_url("empty port");
      }
    } else if (std::size_t c = host.rfind(':'); c != std::string_view::npos) {
      port = host.substr(c + 1);
      host = host.substr(0, c);
      if (port.empty()) bad_url("empty port");
    }
    url.host_ = percent_decode(host, "host");
    if (!port.empty()) {
      std::optional<std::uint64_t> number = parse_unsigned(port);
      if (!number || *number == 0 || *number > 65535) bad_url("port must be 1-65535");
      url.port_ = static_cast<std::uint16_t>(*number);
    }
  }
  redacted += redacted_path(rest);
  url.path_ = percent_decode(rest, "path");

  if (!query.empty()) {
    redacted += "?";
    bool first = true;
    std::size_t start = 0;
    while (start <= query.size()) {
      std::size_t amp = query.find('&', start);
      std::string_view item =
          query.substr(start, amp == std::string_view::npos ? std::string_view::npos : amp - start);
      start = amp == std::string_view::npos ? query.size() + 1 : amp + 1;
      if (item.empty()) continue;
      std::size_t eq = item.find('=');
      std::string name = percent_decode(item.substr(0, eq), "parameter names");
      std::string value = eq == std::string_view::npos
                              ? std::string()
                              : percent_decode(item.substr(eq + 1), "parameters");
      if (name.empty()) bad_url("a query parameter has no name");
      for (const auto& existing : url.params_) {
        if (existing.first == name) bad_url("parameter '" + name + "' is given twice");
      }
      if (!first) redacted += "&";
      first = false;
      const bool hide = is_secret_param(name) || value.find('@') != std::string::npos;
      redacted += hide ? std::string(item.substr(0, eq)) + "=***" : std::string(item);
      url.params_.emplace_back(std::move(name), std::move(value));
    }
  }
  url.redacted_ = std::move(redacted);
  return url;
}

std::optional<std::string> Url::take(std::string_view name) {
  auto it = std::find_if(params_.begin(), params_.end(),
                         [&](const auto& param) { return param.first == name; });
  if (it == params_.end()) return std::nullopt;
  std::string value = std::move(it->second);
  params_.erase(it);
  return value;
}

std::optional<std::int64_t> Url::take_int(std::string_view name, std::int64_t min,
                                          std::int64_t max) {
  std::optional<std::string> text = take(name);
  if (!text) return std::nullopt;
  std::string_view digits = *text;
  bool negative = !digits.empty() && digits.front() == '-';
  if (negative) digits.remove_prefix(1);
  std::optional<std::uint64_t> magnitude = parse_unsigned(digits);
  std::string range = "an integer from " + std::to_string(min) + " to " + std::to_string(max);
  if (!magnitude ||
      *magnitude > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
    bad_param(name, range);
  }
  std::int64_t value =
      negative ? -static_cast<std::int64_t>(*magnitude) : static_cast<std::int64_t>(*magnitude);
  if (value < min || value > max) bad_param(name, range);
  return value;
}

std::optional<bool> Url::take_bool(std::string_view name) {
  std::optional<std::string> text = take(name);
  if (!text) return std::nullopt;
  std::string value = lower(*text);
  if (value == "true" || value == "1" || value == "yes" || value == "on") return true;
  if (value == "false" || value == "0" || value == "no" || value == "off") return false;
  bad_param(name, "true or false");
}

std::optional<std::chrono::milliseconds> parse_duration(std::string_view value) {
  std::size_t unit_at = 0;
  while (unit_at < value.size() && std::isdigit(static_cast<unsigned char>(value[unit_at])))
    ++unit_at;
  std::optional<std::uint64_t> number = parse_unsigned(value.substr(0, unit_at));
  std::string_view unit = value.substr(unit_at);
  if (!number) return std::nullopt;
  if (unit.empty()) {
    if (*number == 0) return std::chrono::milliseconds(0);
    return std::nullopt;
  }
  std::uint64_t limit =
      static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) / 3600000;
  if (*number > limit) return std::nullopt;
  std::int64_t n = static_cast<std::int64_t>(*number);
  if (unit == "us") return std::chrono::milliseconds((n + 999) / 1000);
  if (unit == "ms") return std::chrono::milliseconds(n);
  if (unit == "s") return std::chrono::milliseconds(n * 1000);
  if (unit == "m" || unit == "min") return std::chrono::milliseconds(n * 60000);
  if (unit == "h") return std::chrono::milliseconds(n * 3600000);
  return std::nullopt;
}

std::optional<std::size_t> parse_size(std::string_view value) {
  std::size_t unit_at = 0;
  while (unit_at < value.size() && std::isdigit(static_cast<unsigned char>(value[unit_at])))
    ++unit_at;
  std::optional<std::uint64_t> number = parse_unsigned(value.substr(0, unit_at));
  if (!number) return std::nullopt;
  std::string unit = lower(value.substr(unit_at));
  std::uint64_t multiplier;
  if (unit.empty() || unit == "b") {
    multiplier = 1;
  } else if (unit == "k" || unit == "kib" || unit == "kb") {
    multiplier = 1024;
  } else if (unit == "m" || unit == "mib" || unit == "mb") {
    multiplier = 1024 * 1024;
  } else if (unit == "g" || unit == "gib" || unit == "gb") {
    multiplier = 1024 * 1024 * 1024;
  } else {
    return std::nullopt;
  }
  if (*number > std::numeric_limits<std::size_t>::max() / multiplier) return std::nullopt;
  return static_cast<std::size_t>(*number * multiplier);
}

std::string format_duration(std::chrono::milliseconds duration) {
  const std::int64_t ms = duration.count();
  if (ms != 0 && ms % 3600000 == 0) return std::to_string(ms / 3600000) + "h";
  if (ms != 0 && ms % 60000 == 0) return std::to_string(ms / 60000) + "m";
  if (ms != 0 && ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

std::optional<std::chrono::milliseconds> Url::take_duration(std::string_view name,
                                                            std::chrono::milliseconds min,
                                                            std::chrono::milliseconds max) {
  std::optional<std::string> text = take(name);
  if (!text) return std::nullopt;
  const std::string range = "a duration from " + format_duration(min) + " to " +
                            format_duration(max) + " with a unit, e.g. 500ms, 5s, 2m, 1h";
  std::optional<std::chrono::milliseconds> value = parse_duration(*text);
  if (!value || *value < min || *value > max) bad_param(name, range);
  return value;
}

std::optional<std::size_t> Url::take_size(std::string_view name) {
  std::optional<std::string> text = take(name);
  if (!text) return std::nullopt;
  std::optional<std::size_t> value = parse_size(*text);
  if (!value) bad_param(name, "a size in bytes, e.g. 4096, 64KiB, 8MiB");
  return value;
}

void Url::reject_unknown_params(std::string_view driver) const {
  if (params_.empty()) return;
  std::string names;
  for (const auto& param : params_) {
    if (!names.empty()) names += ", ";
    names += "'" + param.first + "'";
  }
  throw Error(ErrorCode::invalid_argument,
              "unknown URL parameter" + std::string(params_.size() > 1 ? "s " : " ") + names +
                  " for the " + std::string(driver) + " driver (see docs/drivers.md)",
              std::string(driver), false);
}

}  // namespace kvstore
