#include "primer/train/checkpoint.h"

#include <unistd.h>

#include <filesystem>

#include "primer/core/logging.h"
#include "primer/io/checkpoint_format.h"
#include "primer/io/safetensors.h"

namespace primer::train {
namespace {

namespace fs = std::filesystem;

}  // namespace

CheckpointStore::CheckpointStore(std::string run_directory, std::int64_t keep)
    : directory_(std::move(run_directory) + "/checkpoints"), keep_(keep) {}

std::string CheckpointStore::save(const LanguageModel& model, const optim::Optimizer& optimizer,
                                  const TrainingState& state, const std::string& config_yaml) const {
  const fs::path final_path = fs::path(directory_) / checkpoint_name(state.step);
  const fs::path temporary =
      fs::path(directory_) / (checkpoint_name(state.step) + ".tmp." + std::to_string(::getpid()));
  fs::create_directories(temporary);
  try {
    model.save_weights((temporary / kCheckpointWeights).string());
    save_safetensors((temporary / kCheckpointOptimizer).string(), optimizer.state());
    write_checkpoint_state(temporary.string(),
                           {state.step, state.loader.epoch, state.loader.windows_taken, config_yaml});
    if (fs::exists(final_path)) fs::remove_all(final_path);
    fs::rename(temporary, final_path);
  } catch (...) {
    std::error_code ignored;
    fs::remove_all(temporary, ignored);
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
  try {
    optimizer.load_state(load_safetensors(checkpoint + "/" + kCheckpointOptimizer));
  } catch (const Error& error) {
    PRIMER_FAIL("{}/{}: {}", checkpoint, kCheckpointOptimizer, error.what());
  }
  const CheckpointState saved = read_checkpoint_state(checkpoint);
  TrainingState state;
  state.step = saved.step;
  state.loader.epoch = saved.loader_epoch;
  state.loader.windows_taken = saved.loader_windows_taken;
  return state;
}

}  // namespace primer::train
