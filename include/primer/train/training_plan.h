#pragma once
// What a training config will cost, computed from the config alone (no data read, no model built):
// what `primer-train --dry-run` prints before anyone spends GPU hours on it.
#include <string>

#include "primer/train/train_config.h"

namespace primer::train {

struct TrainingPlan {
  std::int64_t parameters = 0;
  std::int64_t sequences_per_step = 0;  // micro-batch x accumulation
  std::int64_t tokens_per_step = 0;
  double flops_per_token = 0.0;  // training: forward and backward (primer-info's convention)
  double flops_per_step = 0.0;
  double total_flops = 0.0;  // over training.steps
  // Bytes on the training device: f32 weights and gradients, the optimizer's state, and an estimate of
  // the activations one micro-batch keeps for its backward pass (f32, the logits and their gradient
  // included), which dominates at long sequences and large micro-batches.
  double weight_bytes = 0.0;
  double gradient_bytes = 0.0;
  double optimizer_bytes = 0.0;
  double activation_bytes = 0.0;
  double total_bytes() const { return weight_bytes + gradient_bytes + optimizer_bytes + activation_bytes; }
};

TrainingPlan plan_training(const TrainConfig& config);
// The plan as lines of text, with the config's schedule, evaluation and checkpoint settings.
std::string describe_plan(const TrainConfig& config, const TrainingPlan& plan);

}  // namespace primer::train
