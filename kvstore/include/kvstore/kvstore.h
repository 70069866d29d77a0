// kvstore — one key–value interface over Memory, SQLite, Redis, PostgreSQL
// and MySQL/MariaDB, chosen at run time by URL.
//
//   auto store = kvstore::open("sqlite:data/kv.db");
//   store->set({"_fedify", "publicKey", url}, document, {std::chrono::minutes(5)});
//   if (auto doc = store->get({"_fedify", "publicKey", url})) { ... }
//
// This umbrella header includes the whole public API except the cas recipes
// (<kvstore/cas.h>, target kvstore::cas) and the drivers' own headers.
#pragma once

#include <kvstore/error.h>
#include <kvstore/key.h>
#include <kvstore/key_encoding.h>
#include <kvstore/list_range.h>
#include <kvstore/options.h>
#include <kvstore/registry.h>
#include <kvstore/store.h>
#include <kvstore/url.h>
#include <kvstore/value.h>
