// kvstore::boost_asio — the async API with Boost.Asio completion tokens.
//
//   #include <kvstore/boost_asio.h>
//   kvstore::boost_asio::store kv(std::shared_ptr<kvstore::KvStore>(kvstore::open(url)),
//                                 io.get_executor());
//   auto v = co_await kv.async_get(key, boost::asio::use_awaitable);
//
// Header-only; link kvstore::boost_asio (Boost >= 1.74, headers only). The
// classes, threads, lifetimes and cancellation are described in
// detail/asio_adapter.ipp, the body this header shares with <kvstore/asio.h>
// (standalone asio); docs/async.md is the guide. Boost 1.74 (Debian 12) has
// no cancellation slots and no deferred: there the calls are cancelled
// through CallOptions::stop (basic_store::with_options()).
#pragma once

// GCC 12 + Boost 1.74: <boost/asio/awaitable.hpp> uses std::exchange
// without including <utility>.
#include <utility>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/version.hpp>

#if BOOST_ASIO_VERSION < 101800
#error "kvstore/boost_asio.h needs Boost.Asio 1.18 (Boost 1.74) or newer"
#endif

// Cancellation slots arrived in Asio 1.19 (Boost 1.77).
#if BOOST_ASIO_VERSION >= 101900
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/cancellation_type.hpp>
#define KVSTORE_ASIO_CANCELLATION 1
#else
#define KVSTORE_ASIO_CANCELLATION 0
#endif

#define KVSTORE_ASIO_NET boost::asio
#define KVSTORE_ASIO_ADAPTER boost_asio
#include <kvstore/detail/asio_adapter.ipp>
