// The conformance suite as a library: one body of tests that defines what
// "the driver works" means, for built-in and out-of-tree drivers alike.
//
//   #include <kvstore/conformance.h>
//   int main(int argc, char* argv[]) {
//     kvstore::register_driver("mine", &open_mine);   // the driver under test
//     return kvstore::conformance::run(argc, argv);  // --kv-url 'mine://...'
//   }
//
// Link kvstore::conformance (CMake component "conformance"). The suite opens
// a fresh store for each test case from the URL given: "{ns}" in it becomes a
// new namespace per store, or --kv-ns-param NAME appends NAME=<namespace> as
// a URL parameter (a table name or key prefix), so that cases never see each
// other's data. Cases tagged [shared] open two stores on the same namespace
// and need a driver whose stores share data (exclude them with "~[shared]"
// otherwise). Every other argument is Catch2's (test filters, reporters).
#pragma once

#include <string>
#include <vector>

namespace kvstore::conformance {

// Runs the suite with command-line arguments:
//   --kv-url URL | --kv-url-env VARIABLE, [--kv-ns-param NAME], Catch2 options.
// Returns Catch2's exit code: 0 when every selected test case passed.
int run(int argc, char* argv[]);

// Runs the suite against `url` with further Catch2 arguments.
int run(const std::string& url, const std::vector<std::string>& catch_args = {});

}  // namespace kvstore::conformance
