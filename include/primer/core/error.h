#pragma once
// primer::Error and PRIMER_CHECK: every failed precondition becomes an exception whose message says
// where it was raised and what was wrong (shapes, dtypes, file names), formatted with fmt.
#include <fmt/format.h>

#include <stdexcept>
#include <string>

namespace primer {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

namespace detail {
[[noreturn]] void throw_error(const char* file, int line, const std::string& message);
}  // namespace detail

}  // namespace primer

#define PRIMER_FAIL(...) ::primer::detail::throw_error(__FILE__, __LINE__, ::fmt::format(__VA_ARGS__))

#define PRIMER_CHECK(condition, ...) \
  do {                               \
    if (!(condition)) {              \
      PRIMER_FAIL(__VA_ARGS__);      \
    }                                \
  } while (false)
