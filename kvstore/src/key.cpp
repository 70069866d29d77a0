#include <kvstore/key.h>

#include <kvstore/error.h>
#include <nlohmann/json.hpp>

namespace kvstore {

bool is_valid_utf8(std::string_view text) noexcept {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const auto* end = p + text.size();
  while (p < end) {
    unsigned char c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    std::size_t length;
    char32_t code_point;
    char32_t minimum;
    if ((c & 0xE0) == 0xC0) {
      length = 2, code_point = c & 0x1F, minimum = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
      length = 3, code_point = c & 0x0F, minimum = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
      length = 4, code_point = c & 0x07, minimum = 0x10000;
    } else {
      return false;
    }
    if (static_cast<std::size_t>(end - p) < length) return false;
    for (std::size_t i = 1; i < length; ++i) {
      if ((p[i] & 0xC0) != 0x80) return false;
      code_point = (code_point << 6) | (p[i] & 0x3F);
    }
    if (code_point < minimum || code_point > 0x10FFFF ||
        (code_point >= 0xD800 && code_point <= 0xDFFF)) {
      return false;
    }
    p += length;
  }
  return true;
}

void validate_key(const KvKey& key, bool allow_empty) {
  if (key.empty() && !allow_empty) {
    throw Error(ErrorCode::invalid_argument, "a key needs at least one component");
  }
  if (key.size() > kMaxKeyComponents) {
    throw Error(ErrorCode::limit_exceeded, "key has " + std::to_string(key.size()) +
                                               " components; the maximum is " +
                                               std::to_string(kMaxKeyComponents));
  }
  std::size_t bytes = 0;
  for (std::size_t i = 0; i < key.size(); ++i) {
    const std::string& component = key[i];
    bytes += component.size();
    if (component.find('\0') != std::string::npos) {
      throw Error(ErrorCode::invalid_argument,
                  "key component " + std::to_string(i) + " contains a NUL byte");
    }
    if (!is_valid_utf8(component)) {
      throw Error(ErrorCode::invalid_argument,
                  "key component " + std::to_string(i) + " is not valid UTF-8");
    }
  }
  if (bytes > kMaxKeyBytes) {
    throw Error(ErrorCode::limit_exceeded, "key is " + std::to_string(bytes) +
                                               " bytes long; the maximum is " +
                                               std::to_string(kMaxKeyBytes));
  }
}

bool has_prefix(const KvKey& key, const KvKey& prefix) noexcept {
  if (prefix.size() > key.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (key[i] != prefix[i]) return false;
  }
  return true;
}

std::string to_display_string(const KvKey& key) {
  nlohmann::json array = nlohmann::json::array();
  for (const std::string& component : key) array.push_back(component);
  return array.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace kvstore
