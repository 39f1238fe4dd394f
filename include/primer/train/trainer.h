#pragma once
// The training loop. Each step is a fixed sequence, so data parallelism and accumulation slot in
// between stages: micro-batches (forward, loss / accumulation, backward) -> gradient all-reduce hook
// (none on one process) -> clip -> optimizer update -> schedule. Around it: evaluation every
// eval.every steps, checkpoints every checkpoint.every steps and on SIGINT/SIGTERM, a progress line,
// metrics.jsonl, and loss.png at the end. A non-finite loss or gradient stops the run without touching
// the parameters or the checkpoints.
#include <memory>
#include <string>

#include "primer/data/token_loader.h"
#include "primer/distributed/communicator.h"
#include "primer/models/language_model.h"
#include "primer/train/checkpoint.h"
#include "primer/train/gradient_reducer.h"
#include "primer/train/train_config.h"

namespace primer::train {

struct TrainResult {
  std::int64_t last_step = 0;
  std::int64_t steps_run = 0;    // by this call (0 when a resumed run was already complete)
  double train_loss = 0.0;       // the last step's cross-entropy (its z-loss term not included)
  double validation_loss = 0.0;  // the last evaluation's
  bool interrupted = false;      // stopped by a signal (a checkpoint was written)
  int stop_signal = 0;           // which one
  std::string checkpoint;        // the last one written
};

class TrainingError : public Error {
 public:
  using Error::Error;
};

class Trainer {
 public:
  // One rank of a data-parallel run (distributed::world(): a world of one unless a launcher started
  // several). Every rank runs the same steps on its share of each global batch; rank 0 alone writes the
  // run directory (checkpoints, metrics, the loss curve).
  explicit Trainer(TrainConfig config, distributed::Communicator& communicator = distributed::world());
  // With resume, continues from the newest valid checkpoint of the run directory; with none at all it
  // starts at step 0, and with only broken ones it stops with an error listing each and why.
  TrainResult run(bool resume);
  const LanguageModel& model() const { return *model_; }

 private:
  double train_step(std::int64_t step);
  double evaluate();

  // The mean over all ranks of a number each computed on its share.
  double mean_over_ranks(double value) { return communicator_.sum(value) / communicator_.world_size(); }
  bool writes_files() const { return communicator_.rank() == 0; }

  TrainConfig config_;
  distributed::Communicator& communicator_;
  data::DatasetInfo dataset_;
  std::unique_ptr<LanguageModel> model_;
  std::vector<nn::NamedParameter> parameters_;
  std::unique_ptr<optim::Optimizer> optimizer_;
  std::unique_ptr<data::TrainLoader> loader_;
  std::unique_ptr<data::ValidationLoader> validation_;  // opened (and checksummed) once, rewound per eval
  std::unique_ptr<GradientReducer> reducer_;
  CheckpointStore checkpoints_;
  double last_grad_norm_ = 0.0;
  double last_z_loss_ = 0.0;
};

// Draws train and validation loss against step from metrics.jsonl into a PNG with gnuplot; returns
// false (after a warning) when gnuplot is missing or fails.
bool plot_loss_curve(const std::string& metrics_path, const std::string& png_path);

}  // namespace primer::train
