// A program that links only kvstore::core and kvstore::memory: the memory
// driver registers itself, so open("memory:") works without the umbrella
// target, and a scheme whose driver is not linked says so.
#include <iostream>

#include <kvstore/kvstore.h>

int main() {
  auto store = kvstore::open("memory:");
  store->set({"core", "memory"}, 42);
  bool ok = store->get({"core", "memory"}) == kvstore::Value(42);
  try {
    kvstore::open("sqlite::memory:");
    ok = false;
  } catch (const kvstore::Error& e) {
    ok = ok && e.code() == kvstore::ErrorCode::unsupported;
  }
  std::cout << (ok ? "core+memory ok" : "core+memory FAILED") << "\n";
  return ok ? 0 : 1;
}
