#pragma once
// The checkpoint format, written by training and read by training, sampling and evaluation:
// RUN/checkpoints/step-NNNNNNNN/ holding model.safetensors, the optimizer state and state.json (the step,
// the data loader's position, the resolved config, how many ranks trained the run, and the CRC-32 of each
// tensor file, which lists them).
// The optimizer state is optimizer.safetensors, or, from a run whose ranks each kept a share of it
// (ZeRO-1), one optimizer.shard-R-of-N.safetensors per rank: state tensors are named by parameter, so
// the shards together are the whole state and load into any number of ranks. What goes into the tensor
// files is the model's and the optimizer's business; this is the directory around them.
#include <cstdint>
#include <string>
#include <vector>

namespace primer {

inline constexpr const char* kCheckpointWeights = "model.safetensors";
inline constexpr const char* kCheckpointOptimizer = "optimizer.safetensors";
// Rank `rank`'s share of the optimizer state among `ranks`.
std::string optimizer_shard_name(int rank, int ranks);

struct CheckpointState {
  std::int64_t step = 0;
  std::uint64_t loader_epoch = 0;
  std::uint64_t loader_windows_taken = 0;
  std::string config_yaml;  // the run's config, resolved
  int ranks = 1;            // how many ranks trained the run (1 in checkpoints that predate the field)
};

// "step-00000042": checkpoint directory names sort by step.
std::string checkpoint_name(std::int64_t step);
// Checksums the tensor files (*.safetensors) already written into `directory`, then writes state.json
// beside them.
void write_checkpoint_state(const std::string& directory, const CheckpointState& state);
CheckpointState read_checkpoint_state(const std::string& checkpoint);
// Why a checkpoint cannot be used ("" when it can): a missing file, an unreadable state.json, a checksum
// that does not match.
std::string checkpoint_problem(const std::string& checkpoint);
// The paths of a checkpoint's optimizer state files (one, or one per rank that kept a share).
std::vector<std::string> optimizer_state_files(const std::string& checkpoint);
// The complete checkpoints in a checkpoints directory, newest first (temporary directories left out).
std::vector<std::string> checkpoints_newest_first(const std::string& checkpoints_directory);
// `path`: a checkpoint directory, or a run directory meaning its newest usable checkpoint (broken ones are
// skipped with a warning naming them). Errors say what `path` lacks.
std::string resolve_checkpoint(const std::string& path);

}  // namespace primer
