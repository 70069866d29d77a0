// A regression test for the core's scheduler, which the adapters stand on.
//
// Scheduler::run() waits with wait_until(lock, timers.begin()->first): a
// reference into the timer map. A call that completes while the timer
// thread waits cancels its deadline timer (Scheduler::cancel erases that
// node), and wait_until then reads the freed deadline: heap-use-after-free
// under ASan. The fix (kvstore/src/scheduler.cpp) is to wait on a copy:
//   const auto deadline = first->first;
//   core->wake.wait_until(lock, deadline);
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
