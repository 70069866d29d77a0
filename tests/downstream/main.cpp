#include <iostream>

#include <kvstore/kvstore.h>

int main() {
  auto store = kvstore::open("memory:");
  store->set({"downstream", "works"}, true);
  bool ok = store->get({"downstream", "works"}) == kvstore::Value(true);
  std::cout << (ok ? "downstream ok" : "downstream FAILED") << "\n";
  return ok ? 0 : 1;
}
