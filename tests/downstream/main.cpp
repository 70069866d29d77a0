#include <iostream>

#include <kvstore/cas.h>
#include <kvstore/kvstore.h>

int main() {
  auto store = kvstore::open("memory:");
  store->set({"downstream", "works"}, true);
  bool ok = store->get({"downstream", "works"}) == kvstore::Value(true) &&
            kvstore::recipes::increment(*store, {"downstream", "counter"}) == 1;
  std::cout << (ok ? "downstream ok" : "downstream FAILED") << "\n";
  return ok ? 0 : 1;
}
