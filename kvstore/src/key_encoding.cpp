#include <kvstore/key_encoding.h>

#include <kvstore/error.h>

namespace kvstore {

namespace {
constexpr char kTerminator = '\x01';
constexpr char kEscape = '\x02';
}  // namespace

std::string encode_key(const KvKey& key) {
  std::size_t size = 0;
  for (const std::string& component : key) size += component.size() + 1;
  std::string out;
  out.reserve(size);
  for (const std::string& component : key) {
    for (char c : component) {
      if (c == kTerminator || c == kEscape) {
        out += kEscape;
        out += static_cast<char>(c + 1);  // 0x01 -> 02 02, 0x02 -> 02 03
      } else {
        out += c;
      }
    }
    out += kTerminator;
  }
  return out;
}

KvKey decode_key(std::string_view encoded) {
  KvKey key;
  std::string component;
  bool complete = true;
  for (std::size_t i = 0; i < encoded.size(); ++i) {
    char c = encoded[i];
    complete = false;
    if (c == kTerminator) {
      key.push_back(std::move(component));
      component.clear();
      complete = true;
    } else if (c == kEscape) {
      if (i + 1 >= encoded.size() || (encoded[i + 1] != '\x02' && encoded[i + 1] != '\x03')) {
        throw Error(ErrorCode::corrupt, "stored key has an invalid escape sequence");
      }
      component += static_cast<char>(encoded[++i] - 1);
    } else if (c == '\0') {
      throw Error(ErrorCode::corrupt, "stored key contains a NUL byte");
    } else {
      component += c;
    }
  }
  if (!complete || key.empty()) {
    throw Error(ErrorCode::corrupt, "stored key is not terminated");
  }
  return key;
}

KeyRange list_range(const KvKey& prefix, const std::optional<KvKey>& start_after) {
  KeyRange range;
  range.begin = encode_key(prefix);
  if (!prefix.empty()) {
    // Every extension of the prefix starts with its encoding, which ends in the
    // terminator 0x01; bumping that last byte gives the first string past them all.
    std::string end = range.begin;
    end.back() = static_cast<char>(kTerminator + 1);
    range.end = std::move(end);
  }
  if (start_after) {
    // No encoded key lies strictly between k and k + 0x01 (keys hold no NUL),
    // so this is the first key strictly after start_after.
    std::string after = encode_key(*start_after) + kTerminator;
    if (after > range.begin) range.begin = std::move(after);
  }
  return range;
}

}  // namespace kvstore
