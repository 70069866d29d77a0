// A program built with nothing but `pkg-config --cflags --libs kvstore` (no
// CMake): every driver the .pc file names must have registered its scheme.
//   pkg_config_main DRIVER...
#include <iostream>
#include <string>

#include <kvstore/kvstore.h>

int main(int argc, char** argv) {
  auto store = kvstore::open("memory:");
  store->set_json({"pc", "k"}, R"({"b":1,"a":2})");
  bool ok = store->get_json({"pc", "k"}) == std::string(R"({"b":1,"a":2})");
  for (int i = 1; i < argc; ++i) {
    std::string driver = argv[i];
    try {
      // A URL that fails only after the scheme has been found: "not built"
      // is unsupported, anything else means the driver is linked in.
      kvstore::open(driver + "://127.0.0.1:1/x?nonexistent_parameter=1");
      std::cout << driver << ": opened\n";
    } catch (const kvstore::Error& e) {
      bool linked = e.code() != kvstore::ErrorCode::unsupported;
      std::cout << driver << ": " << (linked ? "linked" : "NOT LINKED") << " (" << e.what() << ")\n";
      ok = ok && linked;
    }
  }
  std::cout << (ok ? "pkg-config build ok" : "pkg-config build FAILED") << "\n";
  return ok ? 0 : 1;
}
