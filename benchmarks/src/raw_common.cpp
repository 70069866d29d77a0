#include "raw_common.h"

namespace kvbench {

std::string raw_key(const KvKey& key) {
  std::size_t size = key.size();
  for (const auto& c : key) size += c.size();
  std::string out;
  out.reserve(size);
  for (std::size_t i = 0; i < key.size(); ++i) {
    if (i) out += kRawSeparator;
    out += key[i];
  }
  return out;
}

std::pair<std::string, std::string> raw_prefix_range(const KvKey& prefix) {
  std::string base = raw_key(prefix);
  return {base + kRawSeparator, base + static_cast<char>(kRawSeparator + 1)};
}

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool RawSession::get(const KvKey& key) {
  if (!get_text(raw_key(key), text_)) return false;
  if (mode_ == Mode::json) value_ = Value::parse(text_);
  return true;
}

std::optional<Value> RawSession::get_value(const KvKey& key) {
  if (!get_text(raw_key(key), text_)) return std::nullopt;
  return Value::parse(text_);
}

void RawSession::set(const KvKey& key, const Doc& doc, Ttl ttl) {
  if (mode_ == Mode::json) {
    set_text(raw_key(key), doc.value.dump(), ttl);
  } else {
    set_text(raw_key(key), doc.text, ttl);
  }
}

bool RawSession::cas(const KvKey& key, const Doc* expected, const Doc* desired, Ttl ttl) {
  if (mode_ == Mode::json) {
    std::string e = expected ? expected->value.dump() : std::string();
    std::string d = desired ? desired->value.dump() : std::string();
    return cas_text(raw_key(key), expected ? &e : nullptr, desired ? &d : nullptr, ttl);
  }
  return cas_text(raw_key(key), expected ? &expected->text : nullptr,
                  desired ? &desired->text : nullptr, ttl);
}

std::size_t RawSession::list(const KvKey& prefix) {
  auto [begin, end] = raw_prefix_range(prefix);
  std::size_t count = 0;
  list_text(begin, end, [&](std::string_view k, std::string_view v) {
    ++count;
    if (mode_ == Mode::json) {
      value_ = Value::parse(v);
    } else {
      text_.assign(v);
    }
    key_.assign(k);
  });
  return count;
}

}  // namespace kvbench
