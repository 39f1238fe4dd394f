#include "primer/backend/op_profiler.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <mutex>
#include <vector>

namespace primer {
namespace {

thread_local int open_scopes = 0;

// CUDA spans are resolved in batches: asking each for its time right away would wait for the device
// after every op and serialise the host with the GPU.
constexpr std::size_t kPendingLimit = 4096;

}  // namespace

struct OpProfiler::State {
  struct Totals {
    std::int64_t calls = 0;
    double milliseconds = 0.0;
  };
  std::mutex mutex;
  std::map<std::string, Totals> totals;
  std::vector<std::pair<std::string, std::unique_ptr<DeviceSpan>>> pending;

  void resolve() {
    for (auto& [name, span] : pending) {
      Totals& entry = totals[name];
      ++entry.calls;
      entry.milliseconds += span->elapsed_ms();
    }
    pending.clear();
  }
};

OpProfiler::OpProfiler() : state_(std::make_shared<State>()) {
  const char* variable = std::getenv("PRIMER_PROFILE");
  enabled_ = variable != nullptr && std::string(variable) != "0" && std::string(variable) != "";
}

OpProfiler& OpProfiler::instance() {
  static OpProfiler profiler;
  return profiler;
}

void OpProfiler::add(const std::string& name, std::unique_ptr<DeviceSpan> span) {
  const std::lock_guard lock(state_->mutex);
  state_->pending.emplace_back(name, std::move(span));
  if (state_->pending.size() >= kPendingLimit) state_->resolve();
}

std::string OpProfiler::report() {
  const std::lock_guard lock(state_->mutex);
  state_->resolve();
  std::vector<std::pair<std::string, State::Totals>> rows(state_->totals.begin(), state_->totals.end());
  std::sort(rows.begin(), rows.end(),
            [](const auto& a, const auto& b) { return a.second.milliseconds > b.second.milliseconds; });
  double total = 0.0;
  for (const auto& [name, entry] : rows) total += entry.milliseconds;
  std::string text =
      fmt::format("{:<28} {:>9} {:>12} {:>7} {:>11}\n", "op", "calls", "total ms", "share", "mean us");
  for (const auto& [name, entry] : rows) {
    text += fmt::format(
        "{:<28} {:>9} {:>12.2f} {:>6.1f}% {:>11.1f}\n", name, entry.calls, entry.milliseconds,
        total > 0 ? 100.0 * entry.milliseconds / total : 0.0,
        1000.0 * entry.milliseconds / static_cast<double>(std::max<std::int64_t>(entry.calls, 1)));
  }
  text += fmt::format("{:<28} {:>9} {:>12.2f} {:>6.1f}%\n", "profiled in all", "", total, 100.0);
  return text;
}

void OpProfiler::reset() {
  const std::lock_guard lock(state_->mutex);
  state_->pending.clear();
  state_->totals.clear();
}

ProfileScope::ProfileScope(std::string_view name, Device device, std::string_view suffix) {
  if (!OpProfiler::instance().enabled() || open_scopes++ > 0) return;
  name_ = std::string(name) + std::string(suffix);
  span_ = backend_for(device).begin_span();
}

ProfileScope::~ProfileScope() {
  if (!OpProfiler::instance().enabled()) return;
  --open_scopes;
  if (!span_) return;
  span_->end();
  OpProfiler::instance().add(name_, std::move(span_));
}

}  // namespace primer
