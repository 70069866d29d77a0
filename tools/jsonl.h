// The JSON Lines entry format of `kvtool export` and `kvtool import`
// (docs/kvtool.md). One object per line:
//
//   {"key":["a","b"],"value":<the stored JSON text>}
//   {"key":["a"],"value_json":"<the stored text as a JSON string>"}
//   ... optionally ,"expires_at":"2026-12-01T12:00:00.000Z" and ,"metadata":<JSON>
//
// `value` embeds the stored text verbatim, so an export -> import round trip
// keeps it byte for byte. Text that cannot sit verbatim on one line (it holds
// a line break, or starts or ends with whitespace) is written as `value_json`
// instead, a JSON string holding the text. Exactly one of the two is present.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include <kvstore/kvstore.h>

namespace kvtool {

using Clock = std::chrono::system_clock;
// Milliseconds, not Clock::duration: nanoseconds since 1970 overflow in 2262,
// and an export may name any year up to 9999.
using TimePoint = std::chrono::time_point<Clock, std::chrono::milliseconds>;

// One entry as read from, or written to, a line.
struct LineEntry {
  kvstore::KvKey key;
  std::string json;                        // the value's JSON text, exactly
  std::optional<TimePoint> expires_at;     // std::nullopt: never expires
  std::optional<kvstore::Value> metadata;  // std::nullopt: none
};

// A line that is not an entry: the message names what is wrong.
struct LineError {
  std::string message;
};

// Appends the line for `entry` (with its '\n') to `out`.
void append_line(std::string& out, const LineEntry& entry);

// Parses one line (without its '\n'). Throws LineError.
LineEntry parse_line(std::string_view line);

// "2026-12-01T12:00:00.000Z": RFC 3339, UTC, milliseconds.
std::string format_rfc3339(TimePoint time);

// Parses RFC 3339 date-times ("Z" or "+hh:mm" offsets, any number of
// fractional digits, kept to the millisecond); std::nullopt if malformed.
std::optional<TimePoint> parse_rfc3339(std::string_view text);

}  // namespace kvtool
