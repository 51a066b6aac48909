#pragma once
// Project-owned result types: modules return these instead of leaking third-party exceptions.
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace learnloop {

struct Error {
  std::string message;
  int code = 0;  // HTTP status or module-specific code; 0 when none applies
};

class [[nodiscard]] Status {
 public:
  Status() = default;
  static Status Ok() { return Status(); }
  static Status Fail(std::string message, int code = 0) {
    Status s;
    s.error_ = Error{std::move(message), code};
    return s;
  }
  Status(Error e) : error_(std::move(e)) {}
  bool ok() const { return !error_.has_value(); }
  explicit operator bool() const { return ok(); }
  const Error& error() const { return *error_; }
  const std::string& message() const {
    static const std::string kEmpty;
    return error_ ? error_->message : kEmpty;
  }

 private:
  std::optional<Error> error_;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}
  Result(Error e) : v_(std::move(e)) {}
  static Result Fail(std::string message, int code = 0) {
    return Result(Error{std::move(message), code});
  }
  bool ok() const { return std::holds_alternative<T>(v_); }
  explicit operator bool() const { return ok(); }
  T& value() { return std::get<T>(v_); }
  const T& value() const { return std::get<T>(v_); }
  T& operator*() { return value(); }
  const T& operator*() const { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const Error& error() const { return std::get<Error>(v_); }
  Status status() const { return ok() ? Status::Ok() : Status(error()); }

 private:
  std::variant<T, Error> v_;
};

}  // namespace learnloop

// In a function returning Status or Result<U>: returns the error of `expr` (a Status or a
// Result), if it failed.
#define LL_TRY(expr)                                                    \
  do {                                                                  \
    if (auto&& ll_try_ = (expr); !ll_try_.ok()) return ll_try_.error(); \
  } while (0)

// `LL_ASSIGN_OR_RETURN(auto x, store.Get(...));` declares x with the value of a Result, or
// returns its error.
#define LL_ASSIGN_OR_RETURN(lhs, expr) LL_ASSIGN_OR_RETURN_(LL_RESULT_NAME_(__LINE__), lhs, expr)
#define LL_ASSIGN_OR_RETURN_(tmp, lhs, expr) \
  auto tmp = (expr);                         \
  if (!tmp.ok()) return tmp.error();         \
  lhs = std::move(tmp.value())
#define LL_RESULT_NAME_(line) LL_RESULT_NAME2_(line)
#define LL_RESULT_NAME2_(line) ll_result_##line
