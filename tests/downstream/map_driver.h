// An out-of-tree driver, written against the driver kit alone: an ordered
// map per URL path, shared by every store opened on that path. It is the
// example of docs/custom-driver.md, and the downstream test proves it with
// the conformance library.
#pragma once

#include <memory>

#include <kvstore/driver.h>

namespace mapdriver {

// The factory for "map:NAME" URLs.
std::unique_ptr<kvstore::Driver> open(kvstore::Url& url);

}  // namespace mapdriver
