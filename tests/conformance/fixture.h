// The conformance suite's view of the store under test.
//
// The suite is one body of tests that every driver runs. The test binary is
// started with the store URL (see main.cpp); each test case opens its own
// fresh, empty store in a namespace of its own, so test cases never see each
// other's keys, even when they share one server.
#pragma once

#include <memory>
#include <string>

#include <kvstore/kvstore.h>

namespace conformance {

// Opens a new, empty store for the running test case. Each call gives a
// distinct namespace unless `same_as` names the namespace of an earlier call
// (to open a second handle on the same data).
std::unique_ptr<kvstore::KvStore> open_store(const std::string& same_as = {});

// open_store() with extra URL parameters, e.g. "list_page_size=2".
std::unique_ptr<kvstore::KvStore> open_store_with(const std::string& params,
                                                  const std::string& same_as = {});

// The namespace of the most recent open_store() call.
const std::string& last_namespace();

// The URL the most recent open_store() call used (for diagnostics).
const std::string& last_url();

}  // namespace conformance
