// primer-eval --checkpoint RUN (--data DIR | --text FILE...) [--seq-len N] [--batch-size N] [--batches N]
//             [--json]
// The loss, perplexity and bits per byte of a trained model on held-out text: a dataset's validation split
// (as primer-data encode made it), or text, JSONL or .json.gz files tokenized with the run's own
// tokenizer. The loss is the computation training reports as validation loss (train/evaluation.h);
// bits per byte divide by the text's UTF-8 bytes, so models with different tokenizers compare.
#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "primer/config/config_node.h"
#include "primer/core/logging.h"
#include "primer/data/corpus_encoder.h"
#include "primer/io/checkpoint_format.h"
#include "primer/sampling/trained_model.h"
#include "primer/train/evaluation.h"
#include "primer/train/train_config.h"

namespace {

namespace fs = std::filesystem;

struct HeldOut {
  std::vector<std::string> shards;
  std::int64_t bytes = 0;  // of the text the shards encode; 0 when only part of it is evaluated
  std::string description;
};

// A temporary dataset of `files`, tokenized like the run's training data; removed with the object.
class EncodedText {
 public:
  EncodedText(const std::vector<std::string>& files, const std::string& tokenizer)
      : directory_(fs::temp_directory_path() / fmt::format("primer-eval-{}", ::getpid())) {
    primer::data::EncodeOptions options;
    options.inputs = files;
    options.tokenizer = tokenizer;
    options.output_directory = directory_.string();
    options.validation_fraction = 0.0;  // every document into one split, read below as the held-out text
    report_ = primer::data::encode_corpus(options);
  }
  ~EncodedText() {
    std::error_code ignored;
    fs::remove_all(directory_, ignored);
  }
  EncodedText(const EncodedText&) = delete;
  EncodedText& operator=(const EncodedText&) = delete;

  HeldOut held_out() const {
    return {primer::data::open_dataset(directory_.string()).train_shards, report_.train.bytes,
            fmt::format("{} documents, {} bytes", report_.train.documents, report_.train.bytes)};
  }

 private:
  fs::path directory_;
  primer::data::EncodeReport report_;
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"primer-eval: loss, perplexity and bits per byte of a trained model on held-out text"};
  std::string checkpoint, data_directory, device_name = "cpu";
  std::vector<std::string> text_files;
  std::int64_t seq_len = 0, batch_size = 0, batches = 0;
  bool as_json = false;
  app.add_option("--checkpoint", checkpoint, "a run directory (its newest checkpoint) or a checkpoint")
      ->required();
  auto* data = app.add_option("--data", data_directory, "a dataset: its validation split is evaluated");
  app.add_option("--text", text_files, "text, JSONL or .json.gz files, tokenized with the run's tokenizer")
      ->excludes(data);
  app.add_option("--seq-len", seq_len, "window length (default: the run's data.seq_len)");
  app.add_option("--batch-size", batch_size, "windows per batch (default: the run's training.batch_size)");
  app.add_option("--batches", batches, "evaluate only the first N batches (default: all)");
  app.add_option("--device", device_name, "cpu or cuda")->check(CLI::IsMember({"cpu", "cuda"}));
  app.add_flag("--json", as_json, "print one JSON object (loss, perplexity, bits_per_byte or null, tokens)");
  CLI11_PARSE(app, argc, argv);
  try {
    PRIMER_CHECK(!data_directory.empty() || !text_files.empty(), "give --data DIR or --text FILE");
    const primer::Device device = device_name == "cuda" ? primer::Device::cuda() : primer::Device::cpu();
    const primer::sampling::TrainedModel trained =
        primer::sampling::load_trained_model(checkpoint, "", device);
    // The window, batch and precision the run evaluated with, unless asked otherwise.
    const primer::train::TrainConfig run = primer::train::read_train_config(primer::ConfigNode::parse(
        primer::read_checkpoint_state(trained.checkpoint).config_yaml, trained.checkpoint + "/state.json"));
    if (seq_len == 0) seq_len = run.seq_len;
    if (batch_size == 0) batch_size = run.batch_size;

    std::unique_ptr<EncodedText> encoded;
    HeldOut held_out;
    if (!text_files.empty()) {
      // The run directory's tokenizer: RUN/checkpoints/step-N -> RUN/tokenizer.model.
      const fs::path run_directory = fs::path(trained.checkpoint).parent_path().parent_path();
      encoded = std::make_unique<EncodedText>(text_files, (run_directory / "tokenizer.model").string());
      held_out = encoded->held_out();
    } else {
      const primer::data::DatasetInfo dataset = primer::data::open_dataset(data_directory);
      held_out = {dataset.validation_shards, dataset.validation_bytes,
                  fmt::format("the validation split of {}", data_directory)};
    }
    primer::data::ValidationLoader loader(held_out.shards, seq_len, batch_size);
    const primer::train::Evaluation result =
        primer::train::evaluate(*trained.model, loader, batches, run.matmul_dtype());
    if (result.targets == 0) throw primer::Error(fmt::format("{}: nothing to predict", held_out.description));
    const bool whole = batches == 0 || batches * batch_size >= loader.windows();
    if (as_json) {
      const nlohmann::json record{
          {"checkpoint", trained.checkpoint},
          {"loss", result.loss},
          {"perplexity", result.perplexity()},
          {"bits_per_byte",
           whole && held_out.bytes > 0 ? nlohmann::json(result.bits_per_byte(held_out.bytes)) : nullptr},
          {"tokens", result.targets}};
      fmt::print("{}\n", record.dump());
      return EXIT_SUCCESS;
    }
    fmt::print("checkpoint      {}\n", trained.checkpoint);
    fmt::print("text            {}\n", held_out.description);
    fmt::print("tokens          {} predicted, windows of {}\n", result.targets, seq_len);
    fmt::print("loss            {:.6f} nats/token\n", result.loss);
    fmt::print("perplexity      {:.3f}\n", result.perplexity());
    if (whole && held_out.bytes > 0) {
      fmt::print("bits per byte   {:.6f}\n", result.bits_per_byte(held_out.bytes));
    } else {
      fmt::print("bits per byte   n/a ({})\n",
                 whole ? "the dataset does not record its bytes" : "only part of the text was evaluated");
    }
    return EXIT_SUCCESS;
  } catch (const std::exception& error) {
    fmt::print(stderr, "primer-eval: {}\n", error.what());
    return EXIT_FAILURE;
  }
}
