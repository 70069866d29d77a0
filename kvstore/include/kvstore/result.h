// Result<T>: what an asynchronous call completes with — a T, or the Error.
//
//   store->async_get(key, [](kvstore::Result<std::optional<kvstore::Value>> r) {
//     if (!r) return log(r.error().what());
//     use(r.value());
//   });
//
// value() rethrows the Error, so code that prefers exceptions can call it
// unconditionally. Result<void> carries only the outcome.
#pragma once

#include <optional>
#include <utility>
#include <variant>

#include <kvstore/error.h>

namespace kvstore {

template <class T>
class Result {
 public:
  Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}      // NOLINT: implicit
  Result(Error error) : state_(std::in_place_index<1>, std::move(error)) {}  // NOLINT: implicit

  bool has_value() const noexcept { return state_.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }

  // The value; throws the Error if there is none.
  T& value() & {
    throw_if_error();
    return std::get<0>(state_);
  }
  const T& value() const& {
    throw_if_error();
    return std::get<0>(state_);
  }
  T&& value() && {
    throw_if_error();
    return std::get<0>(std::move(state_));
  }

  // The Error. Only valid when !has_value().
  const Error& error() const { return std::get<1>(state_); }

 private:
  void throw_if_error() const {
    if (state_.index() == 1) throw std::get<1>(state_);
  }

  std::variant<T, Error> state_;
};

template <>
class Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)) {}  // NOLINT: implicit

  bool has_value() const noexcept { return !error_; }
  explicit operator bool() const noexcept { return has_value(); }
  // Throws the Error, if any.
  void value() const {
    if (error_) throw *error_;
  }
  const Error& error() const { return *error_; }

 private:
  std::optional<Error> error_;
};

}  // namespace kvstore
