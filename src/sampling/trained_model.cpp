#include "primer/sampling/trained_model.h"

#include <filesystem>
#include <fstream>
#include <iterator>

#include "primer/config/config_node.h"
#include "primer/core/logging.h"
#include "primer/io/checkpoint_format.h"

namespace primer::sampling {
namespace fs = std::filesystem;
namespace {

std::string file_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

TrainedModel load_trained_model(const std::string& path, const std::string& tokenizer_path, Device device) {
  TrainedModel trained;
  // resolve_checkpoint verified the checksums.
  trained.checkpoint = resolve_checkpoint(path);
  const std::string saved = read_checkpoint_state(trained.checkpoint).config_yaml;
  const ConfigNode root = ConfigNode::parse(saved, trained.checkpoint + "/state.json");
  trained.model = std::make_unique<LanguageModel>(read_model_config(root.section("model")));
  trained.model->load_weights(trained.checkpoint + "/" + kCheckpointWeights);
  trained.model->to(device);

  // RUN/checkpoints/step-N -> RUN/tokenizer.model
  const fs::path run_tokenizer = fs::path(trained.checkpoint).parent_path().parent_path() / "tokenizer.model";
  std::string chosen = tokenizer_path;
  if (chosen.empty()) {
    PRIMER_CHECK(fs::exists(run_tokenizer),
                 "{}: no tokenizer.model next to the checkpoints; pass --tokenizer",
                 run_tokenizer.parent_path().string());
    chosen = run_tokenizer.string();
  } else if (fs::exists(run_tokenizer) && file_bytes(run_tokenizer) != file_bytes(chosen)) {
    log().warn("{} differs from the tokenizer the run trained with ({}): expect nonsense", chosen,
               run_tokenizer.string());
  }
  PRIMER_CHECK(fs::exists(chosen), "{}: no such tokenizer", chosen);
  trained.tokenizer = std::make_unique<data::Tokenizer>(chosen);
  PRIMER_CHECK(trained.tokenizer->vocab_size() <= trained.model->config().vocab_size,
               "{} has {} pieces but the model in {} has a vocabulary of {}: not this model's tokenizer",
               chosen, trained.tokenizer->vocab_size(), trained.checkpoint,
               trained.model->config().vocab_size);
  return trained;
}

}  // namespace primer::sampling
