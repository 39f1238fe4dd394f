// Op-profile spans on the CPU: the kernels run synchronously on the calling thread, so a wall clock
// around an op measures it.
#include <chrono>

#include "backend/cpu/cpu_backend.h"

namespace primer::cpu {
namespace {

class WallClockSpan final : public DeviceSpan {
 public:
  void end() override { stop_ = Clock::now(); }
  double elapsed_ms() override { return std::chrono::duration<double, std::milli>(stop_ - start_).count(); }

 private:
  using Clock = std::chrono::steady_clock;
  Clock::time_point start_ = Clock::now();
  Clock::time_point stop_ = start_;
};

}  // namespace

std::unique_ptr<DeviceSpan> CpuBackend::begin_span() {
  return std::make_unique<WallClockSpan>();
}

}  // namespace primer::cpu
