#include "jsonl.h"

#include <cstdio>
#include <vector>

namespace kvtool {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

[[noreturn]] void fail(std::string message) { throw LineError{std::move(message)}; }

// A scanner that finds where each member's value text begins and ends, so
// that `value` can be taken as the exact bytes of the line (nlohmann would
// rebuild it: member order, spacing and 1.0 vs 1 would be lost). The text it
// delimits is validated afterwards: by set_json for `value`, by nlohmann for
// the other members.
class Scanner {
 public:
  explicit Scanner(std::string_view text) : text_(text) {}

  void skip_space() {
    while (pos_ < text_.size() && is_space(text_[pos_])) ++pos_;
  }
  bool at_end() const { return pos_ >= text_.size(); }
  char peek() const { return at_end() ? '\0' : text_[pos_]; }
  void expect(char c) {
    skip_space();
    if (peek() != c) fail(std::string("expected '") + c + "' at byte " + std::to_string(pos_ + 1));
    ++pos_;
  }

  // The raw text of the JSON value starting here (whitespace skipped).
  std::string_view value() {
    skip_space();
    std::size_t start = pos_;
    char c = peek();
    if (c == '"') {
      skip_string();
    } else if (c == '{' || c == '[') {
      skip_nested();
    } else {
      while (!at_end() && !is_space(peek()) && peek() != ',' && peek() != '}' && peek() != ']')
        ++pos_;
    }
    if (pos_ == start) fail("a member has no value at byte " + std::to_string(start + 1));
    return text_.substr(start, pos_ - start);
  }

 private:
  void skip_string() {
    ++pos_;  // opening quote
    while (!at_end()) {
      char c = text_[pos_++];
      if (c == '\\') {
        ++pos_;
      } else if (c == '"') {
        return;
      }
    }
    fail("unterminated string");
  }
  void skip_nested() {
    std::vector<char> closers;
    do {
      char c = peek();
      if (c == '"') {
        skip_string();
        continue;
      }
      if (c == '{') closers.push_back('}');
      if (c == '[') closers.push_back(']');
      if (c == '}' || c == ']') {
        if (closers.empty() || closers.back() != c) fail("mismatched brackets");
        closers.pop_back();
      }
      ++pos_;
    } while (!closers.empty() && !at_end());
    if (!closers.empty()) fail("unterminated object or array");
  }

  std::string_view text_;
  std::size_t pos_ = 0;
};

kvstore::Value parse_member(std::string_view name, std::string_view text) {
  kvstore::Value value = kvstore::Value::parse(text, nullptr, false);
  if (value.is_discarded()) fail("\"" + std::string(name) + "\" is not valid JSON");
  return value;
}

bool fits_verbatim(std::string_view json) {
  if (json.empty() || is_space(json.front()) || is_space(json.back())) return false;
  return json.find_first_of("\r\n") == std::string_view::npos;
}

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
// days_from_civil), so that parsing needs no time zone database.
long long days_from_civil(long long y, unsigned m, unsigned d) {
  y -= m <= 2;
  const long long era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<long long>(doe) - 719468;
}

}  // namespace

void append_line(std::string& out, const LineEntry& entry) {
  out += "{\"key\":";
  out += kvstore::Value(entry.key).dump();
  if (fits_verbatim(entry.json)) {
    out += ",\"value\":";
    out += entry.json;
  } else {
    out += ",\"value_json\":";
    out += kvstore::Value(entry.json).dump();
  }
  if (entry.expires_at) {
    out += ",\"expires_at\":\"";
    out += format_rfc3339(*entry.expires_at);
    out += '"';
  }
  if (entry.metadata) {
    out += ",\"metadata\":";
    out += entry.metadata->dump();
  }
  out += "}\n";
}

LineEntry parse_line(std::string_view line) {
  Scanner scanner(line);
  scanner.expect('{');
  LineEntry entry;
  bool has_key = false;
  bool has_value = false;
  scanner.skip_space();
  if (scanner.peek() == '}') fail("the object has no \"key\"");
  while (true) {
    kvstore::Value name_value = parse_member("member name", scanner.value());
    if (!name_value.is_string()) fail("member names must be strings");
    std::string name = name_value.get<std::string>();
    scanner.expect(':');
    std::string_view text = scanner.value();
    if (name == "key") {
      kvstore::Value key = parse_member(name, text);
      if (!key.is_array() || key.empty()) fail("\"key\" must be a non-empty array of strings");
      for (const kvstore::Value& component : key) {
        if (!component.is_string()) fail("\"key\" must be a non-empty array of strings");
        entry.key.push_back(component.get<std::string>());
      }
      has_key = true;
    } else if (name == "value" || name == "value_json") {
      if (has_value) fail("give exactly one of \"value\" and \"value_json\"");
      if (name == "value") {
        entry.json = std::string(text);
      } else {
        kvstore::Value json = parse_member(name, text);
        if (!json.is_string()) fail("\"value_json\" must be a string holding JSON text");
        entry.json = json.get<std::string>();
      }
      has_value = true;
    } else if (name == "expires_at") {
      kvstore::Value when = parse_member(name, text);
      if (!when.is_null()) {
        std::optional<TimePoint> time =
            when.is_string() ? parse_rfc3339(when.get<std::string>()) : std::nullopt;
        if (!time)
          fail("\"expires_at\" must be an RFC 3339 date-time such as \"2026-12-01T12:00:00.000Z\"");
        entry.expires_at = time;
      }
    } else if (name == "metadata") {
      kvstore::Value metadata = parse_member(name, text);
      entry.metadata = std::move(metadata);
    } else {
      fail("unknown member \"" + name + "\"");
    }
    scanner.skip_space();
    if (scanner.peek() == ',') {
      scanner.expect(',');
      continue;
    }
    scanner.expect('}');
    break;
  }
  scanner.skip_space();
  if (!scanner.at_end()) fail("text after the object");
  if (!has_key) fail("the object has no \"key\"");
  if (!has_value) fail("the object has no \"value\"");
  return entry;
}

std::string format_rfc3339(TimePoint time) {
  using namespace std::chrono;
  const auto ms = floor<milliseconds>(time);
  const auto day = floor<days>(ms);
  const year_month_day date{day};
  const hh_mm_ss<milliseconds> clock{ms - day};
  char buffer[40];
  std::snprintf(
      buffer, sizeof buffer, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", static_cast<int>(date.year()),
      static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
      static_cast<int>(clock.hours().count()), static_cast<int>(clock.minutes().count()),
      static_cast<int>(clock.seconds().count()), static_cast<int>(clock.subseconds().count()));
  return buffer;
}

std::optional<TimePoint> parse_rfc3339(std::string_view text) {
  auto digits = [&](std::size_t pos, std::size_t count, int& out) {
    if (pos + count > text.size()) return false;
    out = 0;
    for (std::size_t i = pos; i < pos + count; ++i) {
      if (text[i] < '0' || text[i] > '9') return false;
      out = out * 10 + (text[i] - '0');
    }
    return true;
  };
  int year, month, day, hour, minute, second;
  if (!digits(0, 4, year) || text.size() < 20 || text[4] != '-' || !digits(5, 2, month) ||
      text[7] != '-' || !digits(8, 2, day) ||
      (text[10] != 'T' && text[10] != 't' && text[10] != ' ') || !digits(11, 2, hour) ||
      text[13] != ':' || !digits(14, 2, minute) || text[16] != ':' || !digits(17, 2, second)) {
    return std::nullopt;
  }
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60)
    return std::nullopt;
  std::size_t pos = 19;
  long long millis = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    std::size_t start = pos;
    int scale = 100;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      millis += (text[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start) return std::nullopt;
  }
  long long offset_minutes = 0;
  if (pos < text.size() && (text[pos] == 'Z' || text[pos] == 'z')) {
    ++pos;
  } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    int oh, om;
    if (!digits(pos + 1, 2, oh) || pos + 3 >= text.size() || text[pos + 3] != ':' ||
        !digits(pos + 4, 2, om)) {
      return std::nullopt;
    }
    offset_minutes = (text[pos] == '+' ? 1 : -1) * (oh * 60 + om);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != text.size()) return std::nullopt;
  long long seconds =
      days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day)) * 86400 +
      hour * 3600 + minute * 60 + second - offset_minutes * 60;
  return TimePoint(std::chrono::milliseconds(seconds * 1000 + millis));
}

}  // namespace kvtool
