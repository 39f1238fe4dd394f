#include "primer/train/trainer.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <optional>

#include "primer/backend/cuda_info.h"
#include "primer/backend/op_profiler.h"
#include "primer/core/logging.h"
#include "primer/core/progress.h"
#include "primer/io/checkpoint_format.h"
#include "primer/models/model_stats.h"
#include "primer/ops/cross_entropy.h"
#include "primer/ops/elementwise.h"
#include "primer/ops/matmul_peak.h"
#include "primer/ops/matmul_precision.h"
#include "primer/train/evaluation.h"
#include "primer/train/stop_signals.h"

namespace primer::train {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// metrics.jsonl: one JSON object per line. On resume the lines past the checkpoint's step are dropped,
// so the file reads as if the run had never stopped.
class MetricsLog {
 public:
  MetricsLog(const std::string& path, std::int64_t keep_through_step) : path_(path) {
    std::vector<std::string> kept;
    if (keep_through_step > 0 && fs::exists(path)) {
      std::ifstream in(path);
      for (std::string line; std::getline(in, line);) {
        if (line.empty()) continue;
        const json record = json::parse(line);
        if (record.value("step", std::int64_t{0}) > keep_through_step) continue;
        kept.push_back(line);
        training_seconds_ = record.value("training_seconds", training_seconds_);
      }
    }
    out_.open(path, std::ios::trunc);
    PRIMER_CHECK(out_.good(), "{}: cannot write metrics", path);
    for (const std::string& line : kept) out_ << line << "\n";
    out_.flush();
  }
  void write(const json& record) {
    out_ << record.dump() << "\n";
    out_.flush();
  }
  // The training seconds the kept lines last recorded: where a resumed run's count goes on from.
  double training_seconds() const { return training_seconds_; }

 private:
  std::string path_;
  double training_seconds_ = 0.0;
  std::ofstream out_;
};

double optimizer_state_bytes(const optim::Optimizer& optimizer) {
  double bytes = 0.0;
  for (const auto& [name, tensor] : optimizer.state())
    bytes += static_cast<double>(tensor.numel()) * static_cast<double>(dtype_size(tensor.dtype()));
  return bytes;
}

}  // namespace

Trainer::Trainer(TrainConfig config, distributed::Communicator& communicator)
    : config_(std::move(config)),
      communicator_(communicator),
      dataset_(data::open_dataset(config_.data_directory)),
      model_(std::make_unique<LanguageModel>(config_.model)),
      parameters_(model_->named_parameters()),
      checkpoints_(config_.run_directory, config_.keep_checkpoints, communicator) {
  if (config_.device.kind == DeviceKind::cuda) {
    const CudaInfo cuda = cuda_info();
    PRIMER_CHECK(cuda.device_count > 0, "{}: training.device: cuda: {}", config_.source,
                 cuda.compiled ? "no GPU is visible (" + cuda.error + ")" : "this build has no CUDA backend");
    log().info(
        "device: {}{}", cuda.device_name,
        cuda.interpreted ? " (the CUDA interpret mode: emulated on the CPU, slow, and no GPU's speed)" : "");
  }
  if (config_.precision == Precision::bf16 && !ops::fast_bf16_products(config_.device)) {
    // Emulated, bf16 would cost speed and buy nothing: f32 products are then both faster and exact.
    log().warn(
        "{}: training.precision: bf16, but this CPU has no bf16 GEMM (emulated bf16 products run at "
        "about 0.76x the f32 speed): training with f32 products, as precision fp32 would",
        config_.source);
    config_.precision = Precision::fp32;
  }
  PRIMER_CHECK(dataset_.vocab_size <= config_.model.vocab_size,
               "{}: the dataset's vocabulary of {} does not fit model.vocab_size {}", config_.data_directory,
               dataset_.vocab_size, config_.model.vocab_size);
  const int ranks = communicator_.world_size();
  PRIMER_CHECK(
      config_.batch_size * config_.gradient_accumulation * ranks == config_.global_batch(),
      "{}: the global batch is {} sequences per step, but training.batch_size {} x "
      "training.gradient_accumulation {} x {} rank(s) is {}: set training.global_batch_size: {} for that "
      "batch, or change batch_size or gradient_accumulation so that their product is {}",
      config_.source, config_.global_batch(), config_.batch_size, config_.gradient_accumulation, ranks,
      config_.batch_size * config_.gradient_accumulation * ranks,
      config_.batch_size * config_.gradient_accumulation * ranks, config_.global_batch() / ranks);
  PRIMER_CHECK(
      (ranks == 1 && !config_.check_collectives) || config_.device.kind == DeviceKind::cpu ||
          distributed::device_collectives_built(),
      "{}: training.device: cuda with {} rank(s) needs NCCL, and this build has none: build with CUDA "
      "and NCCL, or train on CPUs (MPI)",
      config_.source, ranks);
  model_->to(config_.device);  // before the optimizer makes its state alongside the weights
  communicator_.set_timeout(config_.collective_timeout);
  reducer_ = std::make_unique<GradientReducer>(
      communicator_, parameters_,
      ReducerOptions{config_.bucket_bytes, config_.shard_optimizer, config_.check_collectives});
  // Under ZeRO-1 a rank keeps optimizer state for the parameters it updates only.
  optimizer_ = config_.optimizer == OptimizerKind::adamw
                   ? optim::make_adamw(reducer_->updated_here(), config_.adamw)
                   : optim::make_adafactor(reducer_->updated_here(), config_.adafactor);
  const data::Partition partition{communicator_.rank(), ranks};
  loader_ = std::make_unique<data::TrainLoader>(dataset_.train_shards, config_.seq_len, config_.batch_size,
                                                config_.seed, partition);
  validation_ = std::make_unique<data::ValidationLoader>(dataset_.validation_shards, config_.seq_len,
                                                         config_.batch_size, partition);
  if (ranks > 1) {
    // Every rank seeds the same initialisation; rank 0's weights are broadcast so that no difference in
    // how a rank was built can make the replicas start apart.
    for (const nn::NamedParameter& parameter : parameters_)
      communicator_.broadcast(parameter.variable.value(), 0);
    // Where every rank runs, as the launcher placed it: what a user checks first on a cluster.
    const distributed::Launch& launch = communicator_.launch();
    const std::vector<std::string> places =
        communicator_.gather_text(fmt::format("{} (local rank {})", launch.host, launch.local_rank));
    std::string placement;
    for (std::size_t r = 0; r < places.size(); ++r)
      placement += fmt::format("{}rank {} on {}", r == 0 ? "" : ", ", r, places[r]);
    log().info("ranks placed by {}: {}", launch.launcher, placement);
    log().info(
        "data parallel: rank {} of {} ({}); {} sequences per step = {} x {} micro-batches x {} ranks; "
        "gradients in {} bucket(s) of up to {} MB; collective timeout {}",
        communicator_.rank(), ranks, communicator_.launch().launcher, config_.global_batch(),
        config_.batch_size, config_.gradient_accumulation, ranks, reducer_->bucket_count(),
        config_.bucket_bytes >> 20,
        config_.collective_timeout > 0 ? fmt::format("{:g} s", config_.collective_timeout) : "none");
  }
  const double state_bytes = optimizer_state_bytes(*optimizer_);
  const double all_state_bytes = reducer_->sharded() ? communicator_.sum(state_bytes) : state_bytes;
  log().info("optimizer state: {:.2f} MiB on this rank{}", state_bytes / (1 << 20),
             reducer_->sharded() ? fmt::format(" ({} of {} parameters; {:.2f} MiB over all {} ranks: ZeRO-1)",
                                               reducer_->updated_here().size(), parameters_.size(),
                                               all_state_bytes / (1 << 20), ranks)
                                 : "");
}

double Trainer::train_step(std::int64_t step) {
  const ops::MatmulPrecisionScope precision(config_.matmul_dtype());
  // The logged loss is the cross-entropy, as in evaluation; the z-loss term is reported apart.
  double loss_sum = 0.0;
  double z_sum = 0.0;
  for (std::int64_t micro = 0; micro < config_.gradient_accumulation; ++micro) {
    const data::Batch batch = loader_->next();
    double z_part = 0.0;
    const Variable loss = model_->loss(batch.inputs, batch.targets, config_.z_loss, &z_part);
    if (micro == config_.gradient_accumulation - 1) reducer_->expect_final_gradients();
    ops::scale(loss, 1.0 / static_cast<double>(config_.gradient_accumulation)).backward();
    loss_sum += loss.value().item() - z_part;
    z_sum += z_part;
  }
  const double own_loss = loss_sum / static_cast<double>(config_.gradient_accumulation);
  const double loss = mean_over_ranks(own_loss);
  last_z_loss_ = mean_over_ranks(z_sum / static_cast<double>(config_.gradient_accumulation));
  reducer_->average();
  last_grad_norm_ = reducer_->gradient_norm();
  if (!std::isfinite(loss) || !std::isfinite(last_grad_norm_)) {
    // Every rank sees the same mean loss and norm, so all stop here; the first rank whose own loss was
    // not finite is named.
    const int first_bad_rank = -static_cast<int>(
        communicator_.max(std::isfinite(own_loss) ? -communicator_.world_size() : -communicator_.rank()));
    throw TrainingError(fmt::format(
        "step {}: non-finite {} ({}{}); the step was not applied and no checkpoint was written. Lower the "
        "learning rate or enable clipping, then resume.",
        step, std::isfinite(loss) ? "gradient norm" : "loss", std::isfinite(loss) ? last_grad_norm_ : loss,
        first_bad_rank < communicator_.world_size() && communicator_.world_size() > 1
            ? fmt::format(", from rank {}'s batch", first_bad_rank)
            : ""));
  }
  optimizer_->step(config_.schedule.at(step), optim::clip_factor(last_grad_norm_, config_.clip_grad_norm));
  reducer_->share_updated_parameters();
  for (nn::NamedParameter& parameter : parameters_) parameter.variable.zero_grad();
  return loss;
}

double Trainer::evaluate() {
  try {
    const Evaluation share =
        train::evaluate(*model_, *validation_, config_.eval_batches, config_.matmul_dtype());
    // Each rank predicts its own windows: the split's loss weighs every rank's by its targets.
    const double targets = communicator_.sum(static_cast<double>(share.targets));
    PRIMER_CHECK(targets > 0, "nothing to predict ({} windows on rank {})", validation_->windows(),
                 communicator_.rank());
    return communicator_.sum(share.loss * static_cast<double>(share.targets)) / targets;
  } catch (const Error& error) {
    PRIMER_FAIL("{}: the validation split: {}", config_.data_directory, error.what());
  }
}

TrainResult Trainer::run(bool resume) {
  TrainingState state;
  // A fresh start must not mix its checkpoints with an earlier run's (pruning could then drop the new
  // ones, and a later --resume would pick the stale ones).
  PRIMER_CHECK(resume || !fs::exists(config_.run_directory + "/checkpoints") ||
                   fs::is_empty(config_.run_directory + "/checkpoints"),
               "{} already holds checkpoints: pass --resume to continue that run, or choose another "
               "checkpoint.directory",
               config_.run_directory);
  if (resume) {
    if (const std::optional<std::string> checkpoint = checkpoints_.latest_valid()) {
      state = CheckpointStore::load(*checkpoint, *model_, *optimizer_);
      // Checkpoints count the windows all ranks took, so a run resumes with any number of ranks.
      const auto ranks = static_cast<std::uint64_t>(communicator_.world_size());
      PRIMER_CHECK(state.loader.windows_taken % ranks == 0,
                   "{}: {} windows were taken this epoch, which {} ranks cannot share evenly", *checkpoint,
                   state.loader.windows_taken, ranks);
      loader_->restore({state.loader.epoch, state.loader.windows_taken / ranks});
      log().info("resumed from {} at step {}", *checkpoint, state.step);
      if (state.ranks != communicator_.world_size()) {
        log().info(
            "the run was trained by {} rank(s) and resumes with {}: the data is partitioned anew and the "
            "optimizer state {}",
            state.ranks, communicator_.world_size(),
            reducer_->sharded() ? "re-sharded" : "kept whole on every rank");
      }
    } else {
      // Checkpoints that all fail their checks are a broken run, not a new one: starting over would
      // silently throw a requeued job's progress away.
      const std::vector<std::string> broken =
          checkpoints_newest_first(config_.run_directory + "/checkpoints");
      if (!broken.empty()) {
        std::string reasons;
        for (const std::string& checkpoint : broken)
          reasons += fmt::format("\n  {}: {}", checkpoint, checkpoint_problem(checkpoint));
        throw TrainingError(
            fmt::format("--resume: no checkpoint in {}/checkpoints is usable:{}\nRepair or "
                        "remove them to start over.",
                        config_.run_directory, reasons));
      }
      log().info("no checkpoint in {}: starting at step 0", config_.run_directory);
    }
  }
  std::optional<MetricsLog> metrics_log;
  if (writes_files()) {
    fs::create_directories(config_.run_directory);
    const std::string path = config_.run_directory + "/config.yaml";
    std::ofstream(path + ".tmp") << config_.resolved_yaml << "\n";
    fs::rename(path + ".tmp", path);
    // The run directory is what primer-sample reads: it carries its own tokenizer.
    if (!dataset_.tokenizer.empty()) {
      fs::copy_file(dataset_.tokenizer, config_.run_directory + "/tokenizer.model",
                    fs::copy_options::overwrite_existing);
    }
    metrics_log.emplace(config_.run_directory + "/metrics.jsonl", state.step);
  }
  const auto record_metrics = [&metrics_log](const json& record) {
    if (metrics_log) metrics_log->write(record);
  };
  const StopRequests stop_requests;
  const double flops_per_token = training_flops_per_token(config_.model, config_.seq_len);
  const MatmulPeak peak = config_.peak_tflops > 0 ? MatmulPeak{config_.peak_tflops, "logging.peak_tflops"}
                                                  : matmul_peak(config_.device, config_.matmul_dtype());
  log().info("MFU against {:.3g} TFLOP/s ({})", peak.tflops, peak.source);
  OpProfiler& profiler = OpProfiler::instance();
  if (config_.profile) profiler.set_enabled(true);
  profiler.reset();
  log().info("{}: {} parameters, {} tokens per step, {} matmuls, steps {} to {}", config_.model.variant,
             model_->parameter_count(), config_.tokens_per_step(), dtype_name(config_.matmul_dtype()),
             state.step + 1, config_.steps);

  TrainResult result;
  result.last_step = state.step;
  using Clock = std::chrono::steady_clock;
  const Clock::time_point run_start = Clock::now();
  Clock::time_point interval_start = run_start;
  // Seconds in training steps since step 1, evaluation and checkpoints left out (what the compute curves
  // charge), carried over a resume by the metrics log.
  double training_seconds = metrics_log ? metrics_log->training_seconds() : 0.0;
  std::int64_t interval_steps = 0;
  for (std::int64_t step = state.step + 1; step <= config_.steps; ++step) {
    const double lr = config_.schedule.at(step);
    const Clock::time_point step_start = Clock::now();
    const double loss = train_step(step);
    training_seconds += std::chrono::duration<double>(Clock::now() - step_start).count();
    result.train_loss = loss;
    result.last_step = step;
    ++result.steps_run;
    if (result.steps_run == 1 && communicator_.world_size() > 1) {
      log().info("gradients: {} of {} bucket(s) started during the backward pass",
                 reducer_->started_during_backward(), reducer_->bucket_count());
    }
    ++interval_steps;
    record_metrics({{"step", step},
                    {"loss", loss},
                    {"z_loss", last_z_loss_},
                    {"lr", lr},
                    {"grad_norm", last_grad_norm_},
                    {"communication_seconds", reducer_->seconds_waiting()}});

    if (step % config_.log_every == 0 || step == config_.steps) {
      const Clock::time_point now = Clock::now();
      const double seconds = std::chrono::duration<double>(now - interval_start).count();
      const double tokens_per_second =
          static_cast<double>(interval_steps * config_.tokens_per_step()) / std::max(seconds, 1e-9);
      const double mfu = peak.tflops > 0 ? tokens_per_second * flops_per_token /
                                               (peak.tflops * 1e12 * communicator_.world_size())
                                         : 0.0;
      const double elapsed = std::chrono::duration<double>(now - run_start).count();
      const double eta =
          elapsed / static_cast<double>(step - state.step) * static_cast<double>(config_.steps - step);
      log().info(
          "step {:>6}/{} | loss {:.4f} | z-loss {:.2e} | lr {:.3e} | grad {:.3f} | {:.0f} tok/s | MFU "
          "{:.1f}% | "
          "ETA {}",
          step, config_.steps, loss, last_z_loss_, lr, last_grad_norm_, tokens_per_second, 100.0 * mfu,
          format_duration(eta));
      record_metrics(
          {{"step", step}, {"tokens_per_second", tokens_per_second}, {"mfu", mfu}, {"elapsed", elapsed}});
      interval_start = now;
      interval_steps = 0;
    }
    if (step % config_.eval_every == 0 || step == config_.steps) {
      result.validation_loss = evaluate();
      log().info("step {:>6} | validation loss {:.4f} | perplexity {:.2f}", step, result.validation_loss,
                 std::exp(result.validation_loss));
      record_metrics(
          {{"step", step},
           {"validation_loss", result.validation_loss},
           {"validation_perplexity", std::exp(result.validation_loss)},
           {"tokens", step * config_.tokens_per_step()},
           {"training_flops", static_cast<double>(step * config_.tokens_per_step()) * flops_per_token},
           {"training_seconds", training_seconds}});
    }
    // Ranks stop together: a signal that reached any of them stops all after this step.
    const int signal = static_cast<int>(communicator_.max(static_cast<double>(stop_requests.signal())));
    if (step % config_.checkpoint_every == 0 || step == config_.steps || signal != 0) {
      const data::LoaderPosition position = loader_->position();
      const data::LoaderPosition all_ranks{
          position.epoch, position.windows_taken * static_cast<std::uint64_t>(communicator_.world_size())};
      result.checkpoint = checkpoints_.save(*model_, *optimizer_, {step, all_ranks}, config_.resolved_yaml,
                                            reducer_->sharded());
      log().info("checkpoint {}", result.checkpoint);
      // No rank exits (an interrupted one with a non-zero status, which makes mpirun end the job) before
      // the checkpoint is complete.
      communicator_.barrier();
    }
    if (signal != 0) {
      log().warn("stopped by signal {} after step {}; resume with --resume", signal, step);
      result.interrupted = true;
      result.stop_signal = signal;
      break;
    }
  }
  if (config_.device.kind == DeviceKind::cuda) {
    log().info("peak GPU memory {:.2f} GiB", static_cast<double>(cuda_memory().peak_allocated) / (1 << 30));
  }
  if (!writes_files()) return result;
  metrics_log.reset();
  plot_loss_curve(config_.run_directory + "/metrics.jsonl", config_.run_directory + "/loss.png");
  if (profiler.enabled()) {
    const std::string table = profiler.report();
    log().info("op profile ({}), steps {} to {}:\n{}",
               config_.device.kind == DeviceKind::cuda ? "device time from CUDA events" : "wall clock",
               state.step + 1, result.last_step, table);
    std::ofstream(config_.run_directory + "/profile.txt") << table;
  }
  return result;
}

}  // namespace primer::train
