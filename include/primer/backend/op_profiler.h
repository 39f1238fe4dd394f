#pragma once
// Where a run's time goes, op by op. When enabled (PRIMER_PROFILE=1 in the environment, or
// `logging.profile: true` in a training config), every op's forward and backward, the optimizer and the
// gradient norm are timed on their device (CUDA events on a GPU, a wall clock on the CPU), and report()
// tabulates calls, total milliseconds and share of the profiled time. Off, a scope costs one branch.
// Only the outermost scope counts when ops nest, so shares add up to 100%.
#include <memory>
#include <string>
#include <string_view>

#include "primer/backend/backend.h"

namespace primer {

class OpProfiler {
 public:
  static OpProfiler& instance();
  bool enabled() const { return enabled_; }
  void set_enabled(bool enabled) { enabled_ = enabled; }
  void add(const std::string& name, std::unique_ptr<DeviceSpan> span);
  // The table, slowest op first; waits for the device to finish the spans it has not timed yet.
  std::string report();
  void reset();

 private:
  OpProfiler();
  struct State;
  bool enabled_ = false;
  std::shared_ptr<State> state_;
};

class ProfileScope {
 public:
  // The entry is name + suffix (" backward" for gradients), built only when profiling is on.
  ProfileScope(std::string_view name, Device device, std::string_view suffix = {});
  ~ProfileScope();
  ProfileScope(const ProfileScope&) = delete;
  ProfileScope& operator=(const ProfileScope&) = delete;

 private:
  std::string name_;
  std::unique_ptr<DeviceSpan> span_;
};

}  // namespace primer
