#pragma once
// Temporary paths private to this test process: ctest runs test cases in parallel processes.
#include <unistd.h>

#include <filesystem>
#include <string>
#include <system_error>

namespace primer::testing {

// /tmp/primer-tests-PID. Process ids are reused, so a process that exited under this one's id may have
// left the directory behind (a test that found a stale checkpoint there failed): it is emptied on first
// use, and removed when the process that made it exits.
class TemporaryDirectory {
 public:
  TemporaryDirectory()
      : owner_(::getpid()),
        path_(std::filesystem::temp_directory_path() / ("primer-tests-" + std::to_string(owner_))) {
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TemporaryDirectory() {
    std::error_code ignored;
    if (::getpid() == owner_) std::filesystem::remove_all(path_, ignored);
  }
  TemporaryDirectory(const TemporaryDirectory&) = delete;
  TemporaryDirectory& operator=(const TemporaryDirectory&) = delete;

  const std::filesystem::path& path() const { return path_; }

 private:
  pid_t owner_;
  std::filesystem::path path_;
};

inline std::string temporary_path(const std::string& name) {
  static const TemporaryDirectory directory;
  return (directory.path() / name).string();
}

}  // namespace primer::testing
