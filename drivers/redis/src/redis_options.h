// URL <-> Options for the Redis driver: which parameters a URL takes, their
// ranges, and how a store's address is quoted in messages.
#pragma once

#include <string>

#include <kvstore/redis.h>
#include <kvstore/url.h>

namespace kvstore::redis::detail {

inline constexpr const char* kDriver = "redis";

// The driver's and the shared connection parameters of `url`, taken from it
// (the caller rejects what is left). Throws Error(invalid_argument) naming
// the driver.
Options options_from_url(Url& url);

// Throws Error(invalid_argument) naming the driver if an option is out of
// its documented range; `where` (a redacted address) ends the message.
void validate(const Options& options, const std::string& where);

// The address a store built from `options` reports in messages, in URL form
// with any password as "***".
std::string describe(const Options& options);

}  // namespace kvstore::redis::detail
