#pragma once
// Result<T> is a value or an Error that says, in words, what went wrong and where.
// Errors are values (as in LevelDB's Status): callers see them and decide.

#include <fmt/format.h>

#include <stdexcept>
#include <string>
#include <utility>
#include <variant>

namespace mayaflow {

struct Error {
    std::string message;
};

template <class... Args>
Error make_error(fmt::format_string<Args...> format, Args&&... args) {
    return Error{fmt::format(format, std::forward<Args>(args)...)};
}

// Thrown only when code asks a failed Result for its value: a programming error.
class BadResultAccess : public std::logic_error {
  public:
    using std::logic_error::logic_error;
};

template <class T>
class [[nodiscard]] Result {
  public:
    Result(T value) : state_(std::move(value)) {}
    Result(Error error) : state_(std::move(error)) {}

    bool ok() const { return state_.index() == 0; }
    explicit operator bool() const { return ok(); }

    const T& value() const& { return checked(); }
    T& value() & { return checked(); }
    T&& value() && { return std::move(checked()); }
    const T& operator*() const& { return checked(); }
    T& operator*() & { return checked(); }
    const T* operator->() const { return &checked(); }
    T* operator->() { return &checked(); }

    const Error& error() const& { return std::get<1>(state_); }
    Error&& error() && { return std::get<1>(std::move(state_)); }

  private:
    T& checked() {
        if (!ok()) throw BadResultAccess("Result has no value: " + std::get<1>(state_).message);
        return std::get<0>(state_);
    }
    const T& checked() const { return const_cast<Result*>(this)->checked(); }

    std::variant<T, Error> state_;
};

// Status is a Result with nothing to return: success, or an Error.
class [[nodiscard]] Status {
  public:
    Status() = default;
    Status(Error error) : error_(std::move(error)), failed_(true) {}
    static Status success() { return {}; }

    bool ok() const { return !failed_; }
    explicit operator bool() const { return ok(); }
    const Error& error() const { return error_; }

  private:
    Error error_;
    bool failed_ = false;
};

}  // namespace mayaflow
