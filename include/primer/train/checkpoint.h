#pragma once
// A run's checkpoints (the format: io/checkpoint_format.h). A checkpoint is written into a temporary
// directory and renamed when complete, so a crash, a signal or a full disk leaves the previous ones
// intact; only the newest `keep` are kept. In a data-parallel run rank 0 writes, except that under
// ZeRO-1 each rank writes its share of the optimizer state (the run directory must then be on a
// file system every rank sees, as clusters' shared file systems are).
#include <optional>
#include <string>

#include "primer/data/token_loader.h"
#include "primer/distributed/communicator.h"
#include "primer/models/language_model.h"
#include "primer/optim/optimizer.h"

namespace primer::train {

struct TrainingState {
  std::int64_t step = 0;
  data::LoaderPosition loader;  // over all ranks
  int ranks = 1;                // that trained it
};

class CheckpointStore {
 public:
  CheckpointStore(std::string run_directory, std::int64_t keep,
                  distributed::Communicator& communicator = distributed::world());

  // Every rank calls it; returns the checkpoint's directory. With optimizer_sharded each rank's
  // `optimizer` holds its share of the state, and each rank writes it.
  std::string save(const LanguageModel& model, const optim::Optimizer& optimizer, const TrainingState& state,
                   const std::string& config_yaml, bool optimizer_sharded = false) const;
  // The newest checkpoint whose files match their checksums; broken ones are skipped with a warning.
  std::optional<std::string> latest_valid() const;
  // Restores model and optimizer; errors (shape mismatches, missing tensors) name the checkpoint.
  static TrainingState load(const std::string& checkpoint, LanguageModel& model, optim::Optimizer& optimizer);

 private:
  std::string directory_;
  std::int64_t keep_;
  distributed::Communicator& communicator_;
};

}  // namespace primer::train
