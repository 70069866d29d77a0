// libFuzzer target: the simdjson reader against nlohmann::json::parse on
// arbitrary bytes. Built with -DKVSTORE_BUILD_FUZZERS=ON and clang (docs/testing.md).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "json_diff.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  json_diff::Outcome outcome = json_diff::compare(text);
  if (!outcome.problem.empty()) {
    std::fprintf(stderr, "json reader disagrees with nlohmann: %s\n", outcome.problem.c_str());
    std::abort();
  }
  return 0;
}
