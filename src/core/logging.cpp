#include "primer/core/logging.h"

#include <spdlog/cfg/helpers.h>
#include <spdlog/sinks/stdout_color_sinks.h>

#include <cstdlib>

namespace primer {

spdlog::logger& log() {
  static const std::shared_ptr<spdlog::logger> logger = [] {
    auto created = spdlog::stderr_color_mt("primer");
    created->set_pattern("[%H:%M:%S.%e] [%^%l%$] %v");
    if (const char* level = std::getenv("PRIMER_LOG_LEVEL")) {
      created->set_level(spdlog::level::from_str(level));
    }
    return created;
  }();
  return *logger;
}

}  // namespace primer
