// URL <-> Options for the MySQL driver: parsing, range checks, and the
// server's description for messages. No I/O, no client library.
#pragma once

#include <string>
#include <string_view>

#include <kvstore/mysql.h>
#include <kvstore/url.h>

namespace kvstore::mysql {

inline constexpr const char* kDriverName = "mysql";

// Takes the driver's parameters (shared and own) from `url`, leaving the
// core's and unknown ones; throws Error(invalid_argument) naming the driver.
Options options_from_url(Url& url);

// Throws Error(invalid_argument) naming the driver unless every field of
// `options` is in range: create() accepts only what a URL could say.
void validate(const Options& options);

// "mysql://user@host:port/database": where the store points, for messages
// (never the password).
std::string describe_server(const Options& options);

}  // namespace kvstore::mysql
