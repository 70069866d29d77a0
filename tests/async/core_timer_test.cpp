// A regression test for the core's scheduler, which the adapters stand on:
// a call that completes while the timer thread waits toward its deadline
// cancels that timer, and the wait must not read the erased timer (it
// waits on a copy of the deadline; ASan caught the reference it used to hold).
#include <future>

#include <catch2/catch.hpp>

#include <kvstore/kvstore.h>

TEST_CASE("calls that complete before their deadline cancel its timer safely", "[core]") {
  auto store = kvstore::open("memory:");
  // One at a time: each call's timer is the first one the timer thread
  // waits on when the call completes and cancels it.
  int completed = 0;
  for (int i = 0; i < 200; ++i) {
    std::promise<bool> done;
    store->async_get({"k"}, [&](kvstore::Result<std::optional<kvstore::Value>> r) {
      done.set_value(r.has_value());
    });
    if (done.get_future().get()) ++completed;
  }
  CHECK(completed == 200);
}
