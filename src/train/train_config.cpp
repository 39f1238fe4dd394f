#include "primer/train/train_config.h"

#include <map>

namespace primer::train {
namespace {

std::int64_t positive(const ConfigNode& node, const std::string& key, std::int64_t fallback) {
  const auto value = node.get_or<std::int64_t>(key, fallback);
  if (value <= 0) node.fail(key, fmt::format("must be positive, got {}", value));
  return value;
}

double non_negative(const ConfigNode& node, const std::string& key, double fallback) {
  const double value = node.get_or(key, fallback);
  if (!(value >= 0.0)) node.fail(key, fmt::format("must not be negative, got {}", value));
  return value;
}

double probability(const ConfigNode& node, const std::string& key, double fallback) {
  const double value = node.get_or(key, fallback);
  if (!(value >= 0.0 && value < 1.0)) node.fail(key, fmt::format("must be in [0, 1), got {}", value));
  return value;
}

}  // namespace

TrainConfig load_train_config(const std::string& path, const std::vector<std::string>& overrides) {
  ConfigNode root = ConfigNode::load_file(path);
  for (const std::string& assignment : overrides) root.apply_override(assignment);
  return read_train_config(root);
}

TrainConfig read_train_config(const ConfigNode& root) {
  TrainConfig c;
  c.model = read_model_config(root.section("model"));

  const ConfigNode data = root.section("data");
  c.data_directory = data.get<std::string>("directory");
  c.seq_len = positive(data, "seq_len", c.seq_len);
  if (c.seq_len > c.model.max_seq_len) {
    data.fail("seq_len", fmt::format("{} exceeds model.max_seq_len {}", c.seq_len, c.model.max_seq_len));
  }

  const ConfigNode training = root.section("training");
  c.batch_size = positive(training, "batch_size", c.batch_size);
  c.gradient_accumulation = positive(training, "gradient_accumulation", c.gradient_accumulation);
  if (training.has("global_batch_size")) c.global_batch_size = positive(training, "global_batch_size", 1);
  c.steps = positive(training, "steps", c.steps);
  c.seed = static_cast<std::uint64_t>(training.get_or<std::int64_t>("seed", 0));
  c.z_loss = non_negative(training, "z_loss", c.z_loss);
  c.device =
      training.choice<Device>("device", {{"cpu", Device::cpu()}, {"cuda", Device::cuda()}}, Device::cpu());
  c.precision = training.choice<Precision>(
      "precision", {{"fp32", Precision::fp32}, {"bf16", Precision::bf16}}, Precision::fp32);

  const ConfigNode optimizer = root.section("optimizer");
  c.optimizer = optimizer.choice<OptimizerKind>(
      "name", {{"adamw", OptimizerKind::adamw}, {"adafactor", OptimizerKind::adafactor}},
      OptimizerKind::adamw);
  if (c.optimizer == OptimizerKind::adamw) {
    c.adamw.beta1 = probability(optimizer, "beta1", c.adamw.beta1);
    c.adamw.beta2 = probability(optimizer, "beta2", c.adamw.beta2);
    c.adamw.eps = non_negative(optimizer, "eps", c.adamw.eps);
    c.adamw.weight_decay = non_negative(optimizer, "weight_decay", c.adamw.weight_decay);
  } else {
    c.adafactor.decay_exponent = non_negative(optimizer, "decay_exponent", c.adafactor.decay_exponent);
    c.adafactor.epsilon1 = non_negative(optimizer, "epsilon1", c.adafactor.epsilon1);
    c.adafactor.epsilon2 = non_negative(optimizer, "epsilon2", c.adafactor.epsilon2);
    c.adafactor.clip_threshold = non_negative(optimizer, "clip_threshold", c.adafactor.clip_threshold);
    c.adafactor.relative_step = optimizer.get_or("relative_step", c.adafactor.relative_step);
  }
  // The paper's Adafactor recipe clips each update (clip_threshold), not the global gradient norm.
  c.clip_grad_norm =
      non_negative(training, "clip_grad_norm", c.optimizer == OptimizerKind::adafactor ? 0.0 : 1.0);

  const ConfigNode schedule = root.section("schedule");
  c.schedule.kind = schedule.choice<ScheduleKind>("name",
                                                  {{"rsqrt", ScheduleKind::rsqrt},
                                                   {"cosine", ScheduleKind::cosine},
                                                   {"constant", ScheduleKind::constant}},
                                                  ScheduleKind::cosine);
  c.schedule.lr = non_negative(schedule, "lr", c.schedule.lr);
  c.schedule.warmup_steps = schedule.get_or<std::int64_t>("warmup_steps", 0);
  if (c.schedule.warmup_steps < 0) schedule.fail("warmup_steps", "must not be negative");
  c.schedule.min_lr_ratio = non_negative(schedule, "min_lr_ratio", c.schedule.min_lr_ratio);
  c.schedule.total_steps = c.steps;

  if (root.has("eval")) {
    const ConfigNode eval = root.section("eval");
    c.eval_every = positive(eval, "every", c.eval_every);
    c.eval_batches = eval.get_or<std::int64_t>("batches", c.eval_batches);
    if (c.eval_batches < 0) eval.fail("batches", "must not be negative (0: the whole validation split)");
  }
  const ConfigNode checkpoint = root.section("checkpoint");
  c.run_directory = checkpoint.get<std::string>("directory");
  c.checkpoint_every = positive(checkpoint, "every", c.checkpoint_every);
  c.keep_checkpoints = positive(checkpoint, "keep", c.keep_checkpoints);
  if (root.has("logging")) {
    const ConfigNode logging = root.section("logging");
    c.log_every = positive(logging, "every", c.log_every);
    c.profile = logging.get_or("profile", c.profile);
    if (logging.has("peak_tflops")) {
      c.peak_tflops = logging.get<double>("peak_tflops");
      if (!(c.peak_tflops > 0)) logging.fail("peak_tflops", "must be positive");
    }
  }
  if (root.has("distributed")) {
    const ConfigNode distributed = root.section("distributed");
    c.bucket_bytes = positive(distributed, "bucket_mb", c.bucket_bytes >> 20) << 20;
    c.shard_optimizer = distributed.get_or("shard_optimizer", c.shard_optimizer);
    c.check_collectives = distributed.get_or("check_collectives", c.check_collectives);
    c.collective_timeout = distributed.get_or("timeout_seconds", c.collective_timeout);
    if (!(c.collective_timeout >= 0))
      distributed.fail("timeout_seconds", "must be 0 (no timeout) or positive");
  }
  root.reject_unknown_keys();
  c.resolved_yaml = root.dump();
  c.source = root.source();
  return c;
}

}  // namespace primer::train
