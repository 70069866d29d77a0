// kvstore::asio — the async API with standalone asio completion tokens.
//
//   #include <kvstore/asio.h>
//   kvstore::asio::store kv(std::shared_ptr<kvstore::KvStore>(kvstore::open(url)),
//                           io.get_executor());
//   auto v = co_await kv.async_get(key, asio::use_awaitable);
//
// Header-only; link kvstore::asio (standalone asio >= 1.22, Debian's
// libasio-dev). The classes, threads, lifetimes and cancellation are
// described in detail/asio_adapter.ipp, the body this header shares with
// <kvstore/boost_asio.h>; docs/async.md is the guide. asio 1.22 has
// cancellation slots (asio::bind_cancellation_slot, and what co_spawn and
// parallel groups connect) and asio::experimental::deferred.
#pragma once

#include <utility>

#include <asio/any_io_executor.hpp>
#include <asio/associated_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/post.hpp>
#include <asio/version.hpp>

#if ASIO_VERSION < 101800
#error "kvstore/asio.h needs asio 1.18 or newer (Debian 12 has 1.22)"
#endif

#if ASIO_VERSION >= 101900
#include <asio/associated_cancellation_slot.hpp>
#include <asio/cancellation_type.hpp>
#define KVSTORE_ASIO_CANCELLATION 1
#else
#define KVSTORE_ASIO_CANCELLATION 0
#endif

// `::asio`, not `asio`: inside namespace kvstore, `asio` is kvstore::asio.
#define KVSTORE_ASIO_NET ::asio
#define KVSTORE_ASIO_ADAPTER asio
#include <kvstore/detail/asio_adapter.ipp>
