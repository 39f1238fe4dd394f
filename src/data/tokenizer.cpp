#include "primer/data/tokenizer.h"

#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#include <thread>
#include <unordered_map>

#include "primer/core/error.h"
#include "primer/core/logging.h"

namespace primer::data {
namespace {

// Hands SentencePiece one line at a time from lines collected by read_documents.
class LineIterator : public sentencepiece::SentenceIterator {
 public:
  explicit LineIterator(const std::vector<std::string>& lines) : lines_(lines) {}
  bool done() const override { return index_ >= lines_.size(); }
  void Next() override { ++index_; }
  const std::string& value() const override { return lines_[index_]; }
  sentencepiece::util::Status status() const override { return {}; }

 private:
  const std::vector<std::string>& lines_;
  std::size_t index_ = 0;
};

std::string join(const std::vector<std::string>& values) {
  std::string joined;
  for (const std::string& value : values) joined += (joined.empty() ? "" : ",") + value;
  return joined;
}

}  // namespace

std::int64_t train_tokenizer(const TokenizerTrainingOptions& options) {
  PRIMER_CHECK(options.model_type == "bpe" || options.model_type == "unigram",
               "tokenizer model type must be bpe or unigram, got '{}'", options.model_type);
  PRIMER_CHECK(options.vocab_size > 4, "tokenizer vocabulary of {} is too small", options.vocab_size);
  std::vector<std::string> lines;
  for (const std::string& file : expand_inputs(options.inputs)) {
    read_documents(file, options.read, [&](Document&& document) {
      std::size_t start = 0;
      while (start <= document.text.size()) {
        const std::size_t end = std::min(document.text.find('\n', start), document.text.size());
        if (end > start) lines.push_back(document.text.substr(start, end - start));
        start = end + 1;
      }
    });
  }
  const int threads =
      options.threads > 0 ? options.threads : static_cast<int>(std::thread::hardware_concurrency());
  const std::unordered_map<std::string, std::string> arguments{
      {"model_prefix", options.model_prefix},
      {"vocab_size", std::to_string(options.vocab_size)},
      {"model_type", options.model_type},
      {"character_coverage", std::to_string(options.character_coverage)},
      {"byte_fallback", options.byte_fallback ? "true" : "false"},
      {"max_sentence_length", std::to_string(options.max_sentence_length)},
      {"input_sentence_size", std::to_string(options.input_sentence_size)},
      {"shuffle_input_sentence", "true"},
      {"num_threads", std::to_string(std::max(threads, 1))},
      {"unk_id", "0"},
      {"bos_id", "1"},
      {"eos_id", "2"},
      {"pad_id", "3"},
      {"user_defined_symbols", join(options.user_defined_symbols)},
      {"minloglevel", "1"},
  };
  log().info("training a {} tokenizer of {} pieces on {} lines", options.model_type, options.vocab_size,
             lines.size());
  LineIterator iterator(lines);
  const auto status = sentencepiece::SentencePieceTrainer::Train(arguments, &iterator);
  PRIMER_CHECK(status.ok(), "SentencePiece training failed: {}", status.ToString());
  return static_cast<std::int64_t>(lines.size());
}

Tokenizer::Tokenizer(const std::string& model_path)
    : path_(model_path), processor_(std::make_unique<sentencepiece::SentencePieceProcessor>()) {
  const auto status = processor_->Load(model_path);
  PRIMER_CHECK(status.ok(), "{}: cannot load the SentencePiece model: {}", model_path, status.ToString());
}

Tokenizer::~Tokenizer() = default;

std::vector<std::int32_t> Tokenizer::encode(const std::string& text) const {
  std::vector<int> ids;
  const auto status = processor_->Encode(text, &ids);
  PRIMER_CHECK(status.ok(), "{}: encoding failed: {}", path_, status.ToString());
  return {ids.begin(), ids.end()};
}

std::string Tokenizer::decode(const std::vector<std::int32_t>& ids) const {
  std::string text;
  const auto status = processor_->Decode(std::vector<int>(ids.begin(), ids.end()), &text);
  PRIMER_CHECK(status.ok(), "{}: decoding failed: {}", path_, status.ToString());
  return text;
}

std::int64_t Tokenizer::vocab_size() const {
  return processor_->GetPieceSize();
}
std::int32_t Tokenizer::eos_id() const {
  return processor_->eos_id();
}
std::int32_t Tokenizer::bos_id() const {
  return processor_->bos_id();
}
std::int32_t Tokenizer::pad_id() const {
  return processor_->pad_id();
}

}  // namespace primer::data
