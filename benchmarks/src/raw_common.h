// Shared pieces of the raw-client baselines: the simplest key encoding
// (components joined by U+001F, which no benchmark key contains) and the
// json/text adapter around a backend's byte-level operations.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>

#include "backend.h"

namespace kvbench {

inline constexpr char kRawSeparator = '\x1f';

std::string raw_key(const KvKey& key);
// [begin, end) of the raw keys strictly under `prefix`.
std::pair<std::string, std::string> raw_prefix_range(const KvKey& prefix);
// Milliseconds since the Unix epoch (raw baselines keep expiry on the client clock).
std::int64_t now_ms();
inline std::int64_t expiry_ms(Ttl ttl) { return ttl ? now_ms() + ttl->count() : 0; }

inline constexpr std::size_t kRawListPage = 256;  // kvstore's default list page size

// A raw session implements these on bytes; RawSession adds the json mode
// (nlohmann parse on read, dump on write) on top.
class RawSession : public Session {
 public:
  explicit RawSession(Mode mode) : mode_(mode) {}
  bool get(const KvKey& key) final;
  std::optional<Value> get_value(const KvKey& key) final;
  void set(const KvKey& key, const Doc& doc, Ttl ttl) final;
  bool cas(const KvKey& key, const Doc* expected, const Doc* desired, Ttl ttl) final;
  std::size_t list(const KvKey& prefix) final;

 protected:
  // The JSON text at `key` into `out`; false if absent or expired.
  virtual bool get_text(const std::string& key, std::string& out) = 0;
  virtual void set_text(const std::string& key, const std::string& text, Ttl ttl) = 0;
  virtual bool cas_text(const std::string& key, const std::string* expected,
                        const std::string* desired, Ttl ttl) = 0;
  // Calls `entry(key, value)` for every live entry in [begin, end), in key order.
  virtual void list_text(const std::string& begin, const std::string& end,
                         const std::function<void(std::string_view, std::string_view)>& entry) = 0;

 private:
  Mode mode_;
  std::string text_;  // reused buffers
  std::string key_;
  Value value_;  // keeps the parsed value alive like a caller would
};

}  // namespace kvbench
