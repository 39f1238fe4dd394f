#pragma once
// The checkpoint format, written by training and read by training, sampling and evaluation:
// RUN/checkpoints/step-NNNNNNNN/ holding model.safetensors, optimizer.safetensors and state.json (the
// step, the data loader's position, the resolved config, and the CRC-32 of each tensor file). What goes
// into the tensor files is the model's and the optimizer's business; this is the directory around them.
#include <cstdint>
#include <string>
#include <vector>

namespace primer {

inline constexpr const char* kCheckpointWeights = "model.safetensors";
inline constexpr const char* kCheckpointOptimizer = "optimizer.safetensors";

struct CheckpointState {
  std::int64_t step = 0;
  std::uint64_t loader_epoch = 0;
  std::uint64_t loader_windows_taken = 0;
  std::string config_yaml;  // the run's config, resolved
};

// "step-00000042": checkpoint directory names sort by step.
std::string checkpoint_name(std::int64_t step);
// Checksums the tensor files already written into `directory`, then writes state.json beside them.
void write_checkpoint_state(const std::string& directory, const CheckpointState& state);
CheckpointState read_checkpoint_state(const std::string& checkpoint);
// Why a checkpoint cannot be used ("" when it can): a missing file, an unreadable state.json, a checksum
// that does not match.
std::string checkpoint_problem(const std::string& checkpoint);
// The complete checkpoints in a checkpoints directory, newest first (temporary directories left out).
std::vector<std::string> checkpoints_newest_first(const std::string& checkpoints_directory);
// `path`: a checkpoint directory, or a run directory meaning its newest usable checkpoint (broken ones are
// skipped with a warning naming them). Errors say what `path` lacks.
std::string resolve_checkpoint(const std::string& path);

}  // namespace primer
