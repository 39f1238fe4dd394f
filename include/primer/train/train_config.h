#pragma once
// Everything a training run reads from its YAML: model, data, training, optimizer, schedule, eval,
// checkpoint and logging sections (docs/training.md lists every key). read_train_config validates it
// all and rejects unknown keys, naming the file, line and key.
#include <string>
#include <vector>

#include "primer/config/config_node.h"
#include "primer/models/model_config.h"
#include "primer/optim/optimizer.h"
#include "primer/train/schedule.h"

namespace primer::train {

enum class OptimizerKind { adamw, adafactor };
// fp32 throughout, or bf16 matrix products (f32 accumulation) with f32 weights, optimizer and loss.
enum class Precision { fp32, bf16 };

struct TrainConfig {
  ModelConfig model;
  std::string data_directory;
  std::int64_t seq_len = 128;
  std::int64_t batch_size = 16;            // sequences per micro-batch, on each rank
  std::int64_t gradient_accumulation = 1;  // micro-batches per step, on each rank
  // Sequences per optimizer step over all ranks; 0: batch_size x gradient_accumulation (one process).
  // The trainer refuses to start unless batch_size x gradient_accumulation x ranks equals it.
  std::int64_t global_batch_size = 0;
  std::int64_t steps = 1000;
  std::uint64_t seed = 0;  // data order
  double z_loss = 1e-4;
  double clip_grad_norm = 1.0;  // 0: no clipping; the default is 0 with Adafactor
  Precision precision = Precision::fp32;
  Device device = Device::cpu();  // where weights, activations and optimizer state live
  OptimizerKind optimizer = OptimizerKind::adamw;
  optim::AdamWOptions adamw;
  optim::AdafactorOptions adafactor;
  Schedule schedule;
  std::int64_t eval_every = 100;
  std::int64_t eval_batches = 0;  // 0: the whole validation split
  std::string run_directory;      // metrics, resolved config, checkpoints, loss curve
  std::int64_t checkpoint_every = 500;
  std::int64_t keep_checkpoints = 3;
  std::int64_t log_every = 10;
  double peak_tflops = 0.0;  // for the MFU estimate; 0: matmul_peak() (measured on a CPU)
  bool profile = false;  // time every op (also PRIMER_PROFILE=1); the table goes to the log and profile.txt
  std::int64_t bucket_bytes = 25 << 20;  // distributed.bucket_mb: gradients per all-reduce
  bool shard_optimizer = false;          // distributed.shard_optimizer: ZeRO-1
  bool check_collectives = false;        // distributed.check_collectives: reduce even with one rank
  double collective_timeout = 600.0;     // distributed.timeout_seconds (0: wait forever)
  std::string resolved_yaml;             // the config as read, overrides applied
  std::string source;                    // the file it was read from

  std::int64_t global_batch() const {
    return global_batch_size > 0 ? global_batch_size : batch_size * gradient_accumulation;
  }
  std::int64_t tokens_per_step() const { return global_batch() * seq_len; }
  DType matmul_dtype() const { return precision == Precision::bf16 ? DType::bf16 : DType::f32; }
};

// Loads `path`, applies each "section.key=value" override, reads and validates every section. Reading
// touches no device: whether training.device exists here is the trainer's question (a dry run plans for
// another machine).
TrainConfig load_train_config(const std::string& path, const std::vector<std::string>& overrides = {});
// The same from a parsed document (a run's saved config, say).
TrainConfig read_train_config(const ConfigNode& root);

}  // namespace primer::train
