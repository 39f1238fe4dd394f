#pragma once
// The process-wide logger. Its level comes from PRIMER_LOG_LEVEL (trace, debug, info, warn, error, off).
#include <spdlog/spdlog.h>

namespace primer {

spdlog::logger& log();

}  // namespace primer
