// kvstore — one key–value interface over Memory, SQLite, Redis, PostgreSQL
// and MySQL/MariaDB, chosen at run time by URL.
//
//   auto store = kvstore::open("sqlite:data/kv.db");
//   store->set({"_fedify", "publicKey", url}, document, {std::chrono::minutes(5)});
//   if (auto doc = store->get({"_fedify", "publicKey", url})) { ... }
//
// This umbrella header includes the whole user API except the cas recipes
// (<kvstore/cas.h>, target kvstore::cas) and the drivers' own headers.
// Driver authors include <kvstore/driver.h> (the driver kit) as well.
#pragma once

#include <kvstore/async_list_cursor.h>
#include <kvstore/bulk.h>
#include <kvstore/call_options.h>
#include <kvstore/callback.h>
#include <kvstore/capabilities.h>
#include <kvstore/error.h>
#include <kvstore/key.h>
#include <kvstore/list_range.h>
#include <kvstore/observer.h>
#include <kvstore/options.h>
#include <kvstore/registry.h>
#include <kvstore/result.h>
#include <kvstore/store.h>
#include <kvstore/url.h>
#include <kvstore/value.h>
