#pragma once
// Result<T>: a value or an Error that says whether the failure is temporary
// (retry later: SMTP 4xx, spawn `Z`, exit 111) or permanent (5xx, `D`, 100).
// GCC 12 has no std::expected, so this is a small stand-in.

#include <string>
#include <utility>
#include <variant>

namespace reactor {

/// A failure and whether it is worth retrying.
struct Error {
  bool temporary = true;
  std::string text;
};

/// Shorthand constructors.
inline Error temp_error(std::string text) { return Error{true, std::move(text)}; }
inline Error perm_error(std::string text) { return Error{false, std::move(text)}; }

/// A value of type T or an Error.
template <typename T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}
  Result(Error e) : v_(std::move(e)) {}
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() { return std::get<0>(v_); }
  const T& value() const { return std::get<0>(v_); }
  T& operator*() { return value(); }
  const T& operator*() const { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

/// Result of an operation that yields nothing but may fail.
template <>
class Result<void> {
 public:
  Result() = default;
  Result(Error e) : err_(std::move(e)), failed_(true) {}
  bool ok() const { return !failed_; }
  explicit operator bool() const { return ok(); }
  const Error& error() const { return err_; }

 private:
  Error err_;
  bool failed_ = false;
};

using Status = Result<void>;

}  // namespace reactor
