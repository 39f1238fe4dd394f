#include "primer/train/schedule.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace primer::train {

double Schedule::at(std::int64_t step) const {
  const auto s = static_cast<double>(std::max<std::int64_t>(step, 1));
  const auto warmup = static_cast<double>(warmup_steps);
  if (kind == ScheduleKind::rsqrt)
    return warmup > 0 ? lr * std::sqrt(warmup / std::max(s, warmup)) : lr / std::sqrt(s);
  if (s <= warmup) return lr * s / warmup;
  if (kind == ScheduleKind::constant) return lr;
  const double span = std::max(1.0, static_cast<double>(total_steps) - warmup);
  const double progress = std::clamp((s - warmup) / span, 0.0, 1.0);
  const double floor = min_lr_ratio * lr;
  return floor + (lr - floor) * 0.5 * (1.0 + std::cos(std::numbers::pi * progress));
}

}  // namespace primer::train
