#pragma once
// A trained model ready to sample: the weights of a checkpoint, the model config saved with them and
// the tokenizer the run trained on (primer-train copies it into the run directory).
#include <memory>
#include <string>

#include "primer/data/tokenizer.h"
#include "primer/models/language_model.h"

namespace primer::sampling {

struct TrainedModel {
  std::string checkpoint;  // the directory the weights came from
  std::unique_ptr<LanguageModel> model;
  std::unique_ptr<data::Tokenizer> tokenizer;
};

// path: a checkpoint directory, or a run directory (its newest valid checkpoint). tokenizer_path:
// empty for the run directory's tokenizer.model. Errors name the file that is missing or does not fit.
// device: where the weights go (the run's training.device is not assumed: sampling is often elsewhere).
TrainedModel load_trained_model(const std::string& path, const std::string& tokenizer_path = "",
                                Device device = Device::cpu());

}  // namespace primer::sampling
