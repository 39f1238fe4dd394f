#include "primer/train/training_plan.h"

#include <fmt/format.h>

#include "primer/models/model_stats.h"

namespace primer::train {
namespace {

constexpr double kFloatBytes = 4.0;

// Floats a micro-batch keeps per token for backward: per layer its norms' inputs and outputs, the Q/K/V
// projections before and after their convolutions, attention's output, the feed-forward's hidden
// activations before and after the nonlinearity and its output; then the logits and their gradient.
double activation_floats_per_token(const ModelConfig& c) {
  const double d = static_cast<double>(c.d_model);
  const double width = static_cast<double>(c.qkv_width());
  const double hidden = static_cast<double>(c.d_ff) * (c.feed_forward == FeedForwardKind::swiglu ? 2.0 : 1.0);
  const double per_layer = 6.0 * d + 8.0 * width + 3.0 * hidden;
  return static_cast<double>(c.num_layers) * per_layer + 2.0 * static_cast<double>(c.vocab_size);
}

// Adafactor keeps a row and a column vector for each large matrix and full moments for the rest;
// AdamW two full moments.
double optimizer_floats(const TrainConfig& config, const ModelStats& stats) {
  const ModelConfig& c = config.model;
  if (config.optimizer == OptimizerKind::adamw) return 2.0 * static_cast<double>(stats.parameters);
  const double unfactored = static_cast<double>(stats.parameters - stats.matmul_parameters);
  const double factored_per_layer = 6.0 * static_cast<double>(c.d_model + std::max(c.d_ff, c.qkv_width()));
  return unfactored + static_cast<double>(c.num_layers) * factored_per_layer +
         static_cast<double>(c.vocab_size + c.d_model);
}

// 65536 -> "65,536".
std::string grouped(std::int64_t value) {
  const std::string digits = std::to_string(value);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    const std::size_t remaining = digits.size() - i;
    if (i > 0 && remaining % 3 == 0 && digits[i - 1] != '-') out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}

std::string gigabytes(double bytes) {
  return fmt::format("{:.2f} GB", bytes / 1e9);
}

}  // namespace

TrainingPlan plan_training(const TrainConfig& config) {
  const ModelStats stats = model_stats(config.model);
  TrainingPlan plan;
  plan.parameters = stats.parameters;
  plan.sequences_per_step = config.batch_size * config.gradient_accumulation;
  plan.tokens_per_step = config.tokens_per_step();
  plan.flops_per_token = training_flops_per_token(config.model, config.seq_len);
  plan.flops_per_step = plan.flops_per_token * static_cast<double>(plan.tokens_per_step);
  plan.total_flops = plan.flops_per_step * static_cast<double>(config.steps);
  plan.weight_bytes = kFloatBytes * static_cast<double>(stats.parameters);
  plan.gradient_bytes = plan.weight_bytes;
  plan.optimizer_bytes = kFloatBytes * optimizer_floats(config, stats);
  plan.activation_bytes = kFloatBytes * activation_floats_per_token(config.model) *
                          static_cast<double>(config.batch_size * config.seq_len);
  return plan;
}

std::string describe_plan(const TrainConfig& config, const TrainingPlan& plan) {
  const ModelConfig& m = config.model;
  std::string text;
  const auto line = [&text](const std::string& key, const std::string& value) {
    text += fmt::format("{:<12}{}\n", key, value);
  };
  line("model",
       fmt::format("{}, {:.1f}M parameters ({}; {} layers, d_model {}, {} heads x {}, d_ff {}, vocab {})",
                   m.variant, static_cast<double>(plan.parameters) / 1e6, grouped(plan.parameters),
                   m.num_layers, m.d_model, m.num_heads, m.head_dim, m.d_ff, m.vocab_size));
  line("batch", fmt::format("{} sequences x {} tokens = {} tokens per step (micro-batch {} x {} accumulated)",
                            plan.sequences_per_step, config.seq_len, grouped(plan.tokens_per_step),
                            config.batch_size, config.gradient_accumulation));
  line("steps", fmt::format("{} ({:.3g} tokens)", grouped(config.steps),
                            static_cast<double>(plan.tokens_per_step) * static_cast<double>(config.steps)));
  line("compute", fmt::format("{:.3g} FLOPs per token, {:.3g} per step, {:.3g} in all", plan.flops_per_token,
                              plan.flops_per_step, plan.total_flops));
  line("optimizer", config.optimizer == OptimizerKind::adafactor
                        ? fmt::format("adafactor (decay 1 - t^-{}, update clipping {}, relative step {})",
                                      config.adafactor.decay_exponent, config.adafactor.clip_threshold,
                                      config.adafactor.relative_step)
                        : fmt::format("adamw (betas {}, {}, weight decay {})", config.adamw.beta1,
                                      config.adamw.beta2, config.adamw.weight_decay));
  const Schedule& s = config.schedule;
  line("schedule", fmt::format("{} lr {} warmup {}; gradient clipping {}",
                               s.kind == ScheduleKind::rsqrt    ? "rsqrt"
                               : s.kind == ScheduleKind::cosine ? "cosine"
                                                                : "constant",
                               s.lr, s.warmup_steps,
                               config.clip_grad_norm > 0 ? fmt::format("at norm {}", config.clip_grad_norm)
                                                         : std::string("off")));
  line("device", fmt::format("{}, {} matmuls", config.device.kind == DeviceKind::cuda ? "cuda" : "cpu",
                             config.precision == Precision::bf16 ? "bf16" : "fp32"));
  line("memory", fmt::format("about {} per device: weights {}, gradients {}, optimizer {}, activations {} "
                             "(estimate, one micro-batch)",
                             gigabytes(plan.total_bytes()), gigabytes(plan.weight_bytes),
                             gigabytes(plan.gradient_bytes), gigabytes(plan.optimizer_bytes),
                             gigabytes(plan.activation_bytes)));
  line("evaluation",
       fmt::format("every {} steps, {}", config.eval_every,
                   config.eval_batches == 0
                       ? std::string("the whole validation split")
                       : fmt::format("{} batches of {} sequences", config.eval_batches, config.batch_size)));
  line("checkpoints", fmt::format("every {} steps into {}/checkpoints, newest {} kept",
                                  config.checkpoint_every, config.run_directory, config.keep_checkpoints));
  line("data", fmt::format("{} (not read by a dry run)", config.data_directory));
  return text;
}

}  // namespace primer::train
