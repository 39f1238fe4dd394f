#include "primer/core/error.h"

#include <filesystem>

namespace primer::detail {

void throw_error(const char* file, int line, const std::string& message) {
  throw Error(fmt::format("{} ({}:{})", message, std::filesystem::path(file).filename().string(), line));
}

}  // namespace primer::detail
