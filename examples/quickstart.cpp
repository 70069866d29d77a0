// The README's example: open a store by URL, write with a TTL, read, swap, list.
//   kvstore_quickstart [URL]        (default "memory:")
#include <chrono>
#include <iostream>

#include <kvstore/kvstore.h>

int main(int argc, char** argv) try {
  auto store = kvstore::open(argc > 1 ? argv[1] : "memory:");

  kvstore::KvKey key{"_fedify", "publicKey", "https://example.com/users/alice#main-key"};
  store->set(key, {{"id", key[2]}, {"type", "CryptographicKey"}}, {std::chrono::minutes(5)});
  if (auto doc = store->get(key)) std::cout << "get: " << doc->dump() << "\n";

  // Consume a nonce exactly once, even with many servers racing.
  bool first = store->cas({"nonce", "abc"}, std::nullopt, true, {std::chrono::hours(1)});
  bool again = store->cas({"nonce", "abc"}, std::nullopt, true, {std::chrono::hours(1)});
  std::cout << "cas: " << first << " then " << again << "\n";

  for (const kvstore::Entry& entry : store->list({"_fedify"})) {
    std::cout << "list: " << kvstore::to_display_string(entry.key) << "\n";
  }
  return 0;
} catch (const kvstore::Error& e) {
  std::cerr << e.what() << " (retryable: " << e.retryable() << ")\n";
  return 1;
}
