// An out-of-tree driver registered with kvstore and proved by the
// conformance library, as docs/custom-driver.md describes.
#include <kvstore/conformance.h>
#include <kvstore/kvstore.h>

#include "map_driver.h"

int main(int argc, char* argv[]) {
  kvstore::register_driver("map", &mapdriver::open);
  if (argc > 1) return kvstore::conformance::run(argc, argv);
  return kvstore::conformance::run("map:{ns}");
}
