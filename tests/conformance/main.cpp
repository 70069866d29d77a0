// kvstore_conformance: the conformance suite against any URL (see
// <kvstore/conformance.h> for the options).
#include <kvstore/conformance.h>

int main(int argc, char* argv[]) { return kvstore::conformance::run(argc, argv); }
