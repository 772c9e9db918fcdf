// The one shape of an operation that can fail with a message: either its
// value or the text that says why not, ready for a log line or the CLI.
// (std::expected is C++23; this is the part of it plexd needs.)
//
//   auto acceptor = open_control_endpoint(io, "tcp:127.0.0.1:0");
//   if (!acceptor) return log_error(acceptor.error());
//   use(std::move(*acceptor));
#pragma once

#include <string>
#include <type_traits>
#include <utility>
#include <variant>

namespace plexd::platform {

/// Why an operation failed; converts to any result<T>.
struct failure {
  std::string message;
};

inline failure fail(std::string message) {
  return failure{std::move(message)};
}

template <class T>
class [[nodiscard]] result {
 public:
  result(T value) : state_(std::in_place_index<0>, std::move(value)) {}    // NOLINT(google-explicit-constructor)
  result(failure why) : state_(std::in_place_index<1>, std::move(why)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }

  /// Only when ok().
  T& value() { return std::get<0>(state_); }
  const T& value() const { return std::get<0>(state_); }
  T& operator*() { return value(); }
  const T& operator*() const { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  /// Only when !ok().
  const std::string& error() const { return std::get<1>(state_).message; }

 private:
  std::variant<T, failure> state_;
};

/// For operations with nothing to return but success.
template <>
class [[nodiscard]] result<void> {
 public:
  result() = default;
  result(failure why) : error_(std::move(why.message)), failed_(true) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return !failed_; }
  explicit operator bool() const { return ok(); }
  const std::string& error() const { return error_; }

 private:
  std::string error_;
  bool failed_ = false;
};

}  // namespace plexd::platform
