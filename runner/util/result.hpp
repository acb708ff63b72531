// Errors as values: the failures a caller should expect come back as a
// Result, and exceptions are kept for the edge (the one catch in run_step).
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace switchyard {

// The exit codes every executable documents in its --help (DESIGN.md).
enum class ExitCode : int {
  Success = 0,
  Failure = 1,      // the operation failed; the service was left as it was
  Usage = 2,        // bad usage, configuration or input
  Unavailable = 3,  // a tool, store, host or credential the step needs is missing
  Locked = 4,       // another deploy holds the lock
  Interrupted = 130,
};

// A failure with the exit code it maps to. `message` is one line that starts
// with its subject and says what to do: "http://host/health: connection
// refused; is the service running?".
struct Error {
  ExitCode code = ExitCode::Failure;
  std::string message;
};

inline Error failure(std::string message) {
  return {ExitCode::Failure, std::move(message)};
}
inline Error usage_error(std::string message) {
  return {ExitCode::Usage, std::move(message)};
}
inline Error unavailable(std::string message) {
  return {ExitCode::Unavailable, std::move(message)};
}

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : m_value(std::move(value)) {}      // NOLINT(google-explicit-constructor)
  Result(Error error) : m_value(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return std::holds_alternative<T>(m_value); }
  explicit operator bool() const { return ok(); }

  T& value() & {
    assert(ok());
    return std::get<T>(m_value);
  }
  const T& value() const& {
    assert(ok());
    return std::get<T>(m_value);
  }
  T&& value() && {
    assert(ok());
    return std::get<T>(std::move(m_value));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const {
    assert(!ok());
    return std::get<Error>(m_value);
  }

 private:
  std::variant<T, Error> m_value;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error)
      : m_error(std::move(error)), m_ok(false) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return m_ok; }
  explicit operator bool() const { return m_ok; }
  const Error& error() const {
    assert(!m_ok);
    return m_error;
  }

 private:
  Error m_error;
  bool m_ok = true;
};

// Exit codes and their meaning, as printed at the end of every --help.
inline constexpr const char* k_exit_codes_help =
    "Exit codes:\n"
    "  0    success\n"
    "  1    the operation failed; the service was left as it was\n"
    "  2    bad usage, configuration or input\n"
    "  3    something the step needs is unavailable (tool, store, host, credentials)\n"
    "  4    another deploy holds the lock\n"
    "  130  interrupted\n";

}  // namespace switchyard

// Assigns the value of the Result `expression` to `target`, or returns its
// error from the enclosing function: for readers of many settings in a row.
#define SWITCHYARD_READ(target, expression) \
  do {                                      \
    auto value_ = (expression);             \
    if (!value_) return value_.error();     \
    (target) = std::move(*value_);          \
  } while (false)
