#pragma once
// Progress of long work: on a terminal, one line redrawn in place with a bar, rate and ETA; otherwise
// (CI logs, files) a log line every `log_interval` seconds. No C++ progress-bar library is packaged in
// Debian, and this needs only a few lines.
#include <chrono>
#include <string>

namespace primer {

class ProgressMeter {
 public:
  // total: the amount of work in `unit`s (0 when unknown: no bar, no ETA).
  ProgressMeter(std::string label, double total, std::string unit, double log_interval = 10.0);
  // done: work finished so far; detail: extra text for the line (e.g. "1.2M tokens").
  void update(double done, const std::string& detail = "");
  void finish(double done, const std::string& detail = "");
  double elapsed_seconds() const;

 private:
  std::string line(double done, const std::string& detail) const;

  std::string label_;
  double total_;
  std::string unit_;
  double log_interval_;
  bool terminal_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_print_;
};

// "1m05s", "42s", "3h10m": durations people read at a glance.
std::string format_duration(double seconds);

}  // namespace primer
