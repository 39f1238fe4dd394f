#pragma once
// Temporary paths private to this test process: ctest runs test cases in parallel processes.
#include <unistd.h>

#include <filesystem>
#include <string>

namespace primer::testing {

inline std::string temporary_path(const std::string& name) {
  const std::filesystem::path directory =
      std::filesystem::temp_directory_path() / ("primer-tests-" + std::to_string(::getpid()));
  std::filesystem::create_directories(directory);
  return (directory / name).string();
}

}  // namespace primer::testing
