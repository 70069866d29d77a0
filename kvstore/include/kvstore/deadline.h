// Saturating time arithmetic for drivers: a deadline or expiry computed as
// "now + duration" never overflows, whatever duration a caller or URL gives.
#pragma once

#include <chrono>
#include <limits>

namespace kvstore {

// `start + duration`, clamped to the clock's representable range instead of
// overflowing (signed overflow is undefined behaviour).
template <class TimePoint, class Rep, class Period>
TimePoint saturating_add(TimePoint start, std::chrono::duration<Rep, Period> duration) {
  using Duration = typename TimePoint::duration;
  const Duration since_epoch = start.time_since_epoch();
  if (duration.count() >= 0) {
    const auto room = Duration::max() - since_epoch;
    if (std::chrono::duration_cast<std::chrono::duration<long double, Period>>(duration).count() >=
        std::chrono::duration_cast<std::chrono::duration<long double, Period>>(room).count()) {
      return TimePoint(Duration::max());
    }
  } else {
    const auto room = since_epoch - Duration::min();
    if (-std::chrono::duration_cast<std::chrono::duration<long double, Period>>(duration).count() >=
        std::chrono::duration_cast<std::chrono::duration<long double, Period>>(room).count()) {
      return TimePoint(Duration::min());
    }
  }
  return start + std::chrono::duration_cast<Duration>(duration);
}

// The time `timeout` from now on `Clock`, saturating.
template <class Clock = std::chrono::steady_clock, class Rep, class Period>
typename Clock::time_point deadline_after(std::chrono::duration<Rep, Period> timeout) {
  return saturating_add(Clock::now(), timeout);
}

}  // namespace kvstore
