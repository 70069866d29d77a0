// kvtool — inspect and edit any kvstore from the shell.
//
//   kvtool URL get KEY                     print the JSON value (exit 1 if absent)
//   kvtool URL set KEY JSON [--ttl DUR]    store a JSON value
//   kvtool URL rm KEY                      remove a key
//   kvtool URL cas KEY EXPECTED DESIRED [--ttl DUR]
//                                          compare-and-swap; "-" means absent;
//                                          exit 0 if swapped, 1 if not
//   kvtool URL list [PREFIX] [--limit N] [--after KEY]
//                                          print "KEY<TAB>JSON" lines in key order
//
// KEY and PREFIX are JSON arrays of strings ('["_fedify","publicKey","https://..."]');
// any other text is a one-component key. Durations: 500ms, 5s, 2m, 1h.
// Errors print kvstore's message and exit 2.
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include <kvstore/kvstore.h>

namespace {

[[noreturn]] void usage(const std::string& problem) {
  std::cerr << "kvtool: " << problem << "\n"
            << "usage: kvtool URL get KEY | set KEY JSON [--ttl DUR] | rm KEY |\n"
            << "              cas KEY EXPECTED|- DESIRED|- [--ttl DUR] |\n"
            << "              list [PREFIX] [--limit N] [--after KEY]\n";
  std::exit(2);
}

kvstore::KvKey parse_key(const std::string& text) {
  if (text.empty() || text.front() != '[') return {text};
  kvstore::Value array = kvstore::Value::parse(text, nullptr, false);
  if (!array.is_array()) usage("a key that starts with '[' must be a JSON array of strings");
  kvstore::KvKey key;
  for (const kvstore::Value& component : array) {
    if (!component.is_string()) usage("key components must be strings");
    key.push_back(component.get<std::string>());
  }
  return key;
}

std::optional<kvstore::Value> parse_optional_value(const std::string& text) {
  if (text == "-") return std::nullopt;
  kvstore::Value value = kvstore::Value::parse(text, nullptr, false);
  if (value.is_discarded()) usage("not valid JSON: " + text);
  return value;
}

}  // namespace

int main(int argc, char** argv) try {
  std::vector<std::string> args;
  kvstore::SetOptions set_options;
  kvstore::ListOptions list_options;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) usage(arg + " needs a value");
      return argv[++i];
    };
    if (arg == "--ttl") {
      std::string text = next();
      set_options.ttl = kvstore::parse_duration(text);
      if (!set_options.ttl) usage("--ttl takes a duration like 500ms or 5m, not " + text);
    } else if (arg == "--limit") {
      list_options.limit = std::stoull(next());
    } else if (arg == "--after") {
      list_options.start_after = parse_key(next());
    } else if (arg == "-h" || arg == "--help") {
      usage("help");
    } else {
      args.push_back(arg);
    }
  }
  if (args.size() < 2) usage("missing URL or command");
  const std::string& command = args[1];
  auto store = kvstore::open(args[0]);
  auto need = [&](std::size_t count) {
    if (args.size() != count + 2) usage(command + " takes " + std::to_string(count) + " argument(s)");
  };

  if (command == "get") {
    need(1);
    std::optional<std::string> json = store->get_json(parse_key(args[2]));
    if (!json) return 1;
    std::cout << *json << "\n";
  } else if (command == "set") {
    need(2);
    store->set_json(parse_key(args[2]), args[3], set_options);
  } else if (command == "rm") {
    need(1);
    store->remove(parse_key(args[2]));
  } else if (command == "cas") {
    need(3);
    bool swapped = store->cas(parse_key(args[2]), parse_optional_value(args[3]),
                              parse_optional_value(args[4]), set_options);
    std::cout << (swapped ? "swapped" : "not swapped") << "\n";
    return swapped ? 0 : 1;
  } else if (command == "list") {
    if (args.size() > 3) usage("list takes at most one prefix");
    kvstore::KvKey prefix = args.size() == 3 ? parse_key(args[2]) : kvstore::KvKey{};
    for (const kvstore::JsonEntry& entry : store->list_json(prefix, list_options)) {
      std::cout << kvstore::to_display_string(entry.key) << "\t" << entry.json << "\n";
    }
  } else {
    usage("unknown command " + command);
  }
  return 0;
} catch (const kvstore::Error& e) {
  std::cerr << "kvtool: " << e.what() << "\n";
  return 2;
} catch (const std::exception& e) {
  std::cerr << "kvtool: " << e.what() << "\n";
  return 2;
}
