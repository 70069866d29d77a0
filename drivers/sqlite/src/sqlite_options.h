// sqlite URLs <-> kvstore::sqlite::Options. Internal: not installed.
#pragma once

#include <kvstore/sqlite.h>
#include <kvstore/url.h>

namespace kvstore::sqlite::detail {

inline constexpr const char* kDriver = "sqlite";

// Takes the path and every parameter this driver knows from `url` (the
// shared ones through the kit); leaves the rest for the registry to reject.
// Throws Error(invalid_argument) naming the driver.
Options take_options(Url& url);

// `options` checked against the documented ranges and names, with
// journal_mode and synchronous lower-cased. Throws Error(invalid_argument)
// before any I/O.
Options checked(Options options);

}  // namespace kvstore::sqlite::detail
