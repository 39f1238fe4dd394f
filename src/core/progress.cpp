#include "primer/core/progress.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "primer/core/logging.h"

namespace primer {

ProgressMeter::ProgressMeter(std::string label, double total, std::string unit, double log_interval)
    : label_(std::move(label)),
      total_(total),
      unit_(std::move(unit)),
      log_interval_(log_interval),
      terminal_(::isatty(STDERR_FILENO) != 0),
      start_(std::chrono::steady_clock::now()),
      last_print_(start_) {}

double ProgressMeter::elapsed_seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

std::string format_duration(double seconds) {
  const auto total = static_cast<long>(std::lround(std::max(seconds, 0.0)));
  if (total >= 3600) return fmt::format("{}h{:02}m", total / 3600, total % 3600 / 60);
  if (total >= 60) return fmt::format("{}m{:02}s", total / 60, total % 60);
  return fmt::format("{}s", total);
}

std::string ProgressMeter::line(double done, const std::string& detail) const {
  const double elapsed = std::max(elapsed_seconds(), 1e-9);
  const double rate = done / elapsed;
  std::string text = fmt::format("{}: {:.1f}", label_, done);
  if (total_ > 0) {
    const double fraction = std::clamp(done / total_, 0.0, 1.0);
    constexpr int width = 24;
    const int filled = static_cast<int>(fraction * width);
    text = fmt::format("{}: [{}{}] {:5.1f}% {:.1f}/{:.1f}", label_, std::string(filled, '#'),
                       std::string(width - filled, '.'), 100.0 * fraction, done, total_);
  }
  text += fmt::format(" {}, {:.2f} {}/s", unit_, rate, unit_);
  if (!detail.empty()) text += ", " + detail;
  if (total_ > 0 && rate > 0 && done < total_) text += ", ETA " + format_duration((total_ - done) / rate);
  return text;
}

void ProgressMeter::update(double done, const std::string& detail) {
  const auto now = std::chrono::steady_clock::now();
  const double since = std::chrono::duration<double>(now - last_print_).count();
  if (since < (terminal_ ? 0.25 : log_interval_)) return;
  last_print_ = now;
  if (terminal_) {
    std::fprintf(stderr, "\r%s\033[K", line(done, detail).c_str());
    std::fflush(stderr);
  } else {
    log().info("{}", line(done, detail));
  }
}

void ProgressMeter::finish(double done, const std::string& detail) {
  if (terminal_) std::fprintf(stderr, "\r\033[K");
  log().info("{} in {}", line(done, detail), format_duration(elapsed_seconds()));
}

}  // namespace primer
