// Small helpers shared by the conformance tests.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <kvstore/kvstore.h>

namespace support {

// Runs `call` and requires it to throw kvstore::Error with `code`, naming the
// store's driver when one raised it.
inline void require_error(kvstore::ErrorCode code, const std::function<void()>& call) {
  try {
    call();
  } catch (const kvstore::Error& e) {
    INFO("error: " << e.what());
    REQUIRE(e.code() == code);
    REQUIRE(std::string(e.what()).find(std::string(kvstore::to_string(code))) != std::string::npos);
    return;
  }
  FAIL("expected kvstore::Error(" << kvstore::to_string(code) << "), nothing was thrown");
}

template <class Range>
std::vector<kvstore::KvKey> keys_of(Range&& range) {
  std::vector<kvstore::KvKey> keys;
  for (const auto& entry : range) keys.push_back(entry.key);
  return keys;
}

}  // namespace support
