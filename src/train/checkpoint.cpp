#include "primer/train/checkpoint.h"

#include <filesystem>

#include "primer/core/logging.h"
#include "primer/io/checkpoint_format.h"
#include "primer/io/safetensors.h"

namespace primer::train {
namespace {

namespace fs = std::filesystem;

}  // namespace

CheckpointStore::CheckpointStore(std::string run_directory, std::int64_t keep,
                                 distributed::Communicator& communicator)
    : directory_(std::move(run_directory) + "/checkpoints"), keep_(keep), communicator_(communicator) {}

std::string CheckpointStore::save(const LanguageModel& model, const optim::Optimizer& optimizer,
                                  const TrainingState& state, const std::string& config_yaml,
                                  bool optimizer_sharded) const {
  const bool coordinator = communicator_.rank() == 0;
  const fs::path final_path = fs::path(directory_) / checkpoint_name(state.step);
  // One name all ranks know; what a crash left under it is stale (the run writes one checkpoint at a
  // time) and goes first.
  const fs::path temporary = fs::path(directory_) / (checkpoint_name(state.step) + ".tmp");
  if (coordinator) {
    fs::remove_all(temporary);
    fs::create_directories(temporary);
  }
  try {
    if (optimizer_sharded) {
      communicator_.barrier();  // the directory exists
      save_safetensors(
          (temporary / optimizer_shard_name(communicator_.rank(), communicator_.world_size())).string(),
          optimizer.state());
      communicator_.barrier();  // every share is written
    } else if (coordinator) {
      save_safetensors((temporary / kCheckpointOptimizer).string(), optimizer.state());
    }
    if (!coordinator) return final_path.string();
    model.save_weights((temporary / kCheckpointWeights).string());
    write_checkpoint_state(temporary.string(), {state.step, state.loader.epoch, state.loader.windows_taken,
                                                config_yaml, communicator_.world_size()});
    if (fs::exists(final_path)) fs::remove_all(final_path);
    fs::rename(temporary, final_path);
  } catch (...) {
    std::error_code ignored;
    if (coordinator) fs::remove_all(temporary, ignored);
    throw;
  }
  const std::vector<std::string> all = checkpoints_newest_first(directory_);
  for (std::size_t i = static_cast<std::size_t>(keep_); i < all.size(); ++i) fs::remove_all(all[i]);
  return final_path.string();
}

std::optional<std::string> CheckpointStore::latest_valid() const {
  for (const std::string& checkpoint : checkpoints_newest_first(directory_)) {
    const std::string problem = checkpoint_problem(checkpoint);
    if (problem.empty()) return checkpoint;
    log().warn("skipping checkpoint {}: {}", checkpoint, problem);
  }
  return std::nullopt;
}

TrainingState CheckpointStore::load(const std::string& checkpoint, LanguageModel& model,
                                    optim::Optimizer& optimizer) {
  const std::string problem = checkpoint_problem(checkpoint);
  PRIMER_CHECK(problem.empty(), "{}: {}", checkpoint, problem);
  model.load_weights(checkpoint + "/" + kCheckpointWeights);
  // The shards of a ZeRO-1 run together hold every state tensor once ("step" in each): merged, they
  // are the whole state, from which a rank's optimizer takes its parameters' share.
  std::map<std::string, Tensor> merged;
  const std::vector<std::string> files = optimizer_state_files(checkpoint);
  for (const std::string& file : files) merged.merge(load_safetensors(file));
  try {
    optimizer.load_state(merged);
  } catch (const Error& error) {
    PRIMER_FAIL("{}: the optimizer state ({} file(s)): {}", checkpoint, files.size(), error.what());
  }
  const CheckpointState saved = read_checkpoint_state(checkpoint);
  TrainingState state;
  state.step = saved.step;
  state.loader.epoch = saved.loader_epoch;
  state.loader.windows_taken = saved.loader_windows_taken;
  state.ranks = saved.ranks;
  return state;
}

}  // namespace primer::train
