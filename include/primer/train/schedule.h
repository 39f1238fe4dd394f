#pragma once
// Learning-rate schedules, as a function of the step (counting from 1).
//  rsqrt     lr * sqrt(warmup / max(step, warmup)): the paper's 1/sqrt(max(step, 10000)) is lr 0.01,
//            warmup 10000 (flat, then reciprocal square root)
//  cosine    linear warmup to lr, then a cosine down to min_lr_ratio * lr at total_steps
//  constant  linear warmup to lr, then lr
#include <cstdint>
#include <string>

namespace primer::train {

enum class ScheduleKind { rsqrt, cosine, constant };

struct Schedule {
  ScheduleKind kind = ScheduleKind::cosine;
  double lr = 1e-3;
  std::int64_t warmup_steps = 0;
  double min_lr_ratio = 0.1;
  std::int64_t total_steps = 1;

  double at(std::int64_t step) const;
};

}  // namespace primer::train
