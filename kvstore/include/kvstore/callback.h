// Callback<T>: the completion handler of an asynchronous call.
//
// A move-only callable taking Result<T>. The store calls it exactly once,
// never inside the call that started the operation, on a thread of the
// store's own (a worker, its reactor or its timer thread). It must not
// block for long: it holds up other completions on that thread. It may
// start new operations, and it may destroy the store.
#pragma once

#include <memory>
#include <type_traits>
#include <utility>

#include <kvstore/result.h>

namespace kvstore {

namespace detail {

// std::move_only_function arrives in C++23; this is the part we need.
template <class Signature>
class UniqueFunction;

template <class R, class... Args>
class UniqueFunction<R(Args...)> {
 public:
  UniqueFunction() = default;
  UniqueFunction(std::nullptr_t) {}  // NOLINT: implicit
  template <class F, class = std::enable_if_t<!std::is_same_v<std::decay_t<F>, UniqueFunction> &&
                                              std::is_invocable_r_v<R, std::decay_t<F>&, Args...>>>
  UniqueFunction(F&& f)  // NOLINT: implicit, like std::function
      : impl_(std::make_unique<Model<std::decay_t<F>>>(std::forward<F>(f))) {}

  UniqueFunction(UniqueFunction&&) noexcept = default;
  UniqueFunction& operator=(UniqueFunction&&) noexcept = default;

  explicit operator bool() const noexcept { return impl_ != nullptr; }
  R operator()(Args... args) { return impl_->call(std::forward<Args>(args)...); }

 private:
  struct Concept {
    virtual ~Concept() = default;
    virtual R call(Args... args) = 0;
  };
  template <class F>
  struct Model final : Concept {
    explicit Model(F&& f) : f(std::move(f)) {}
    explicit Model(const F& f) : f(f) {}
    R call(Args... args) override { return f(std::forward<Args>(args)...); }
    F f;
  };
  std::unique_ptr<Concept> impl_;
};

}  // namespace detail

template <class T>
using Callback = detail::UniqueFunction<void(Result<T>)>;

}  // namespace kvstore
