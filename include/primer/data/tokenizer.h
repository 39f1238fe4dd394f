#pragma once
// SentencePiece tokenizers: training (through SentencePieceTrainer, fed from read_documents, so JSONL
// and gzip inputs need no conversion) and encoding. Models are the files Python's sentencepiece reads.
// Special ids are fixed: unk 0, bos 1, eos 2 (separates documents in token shards), pad 3.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "primer/data/document_reader.h"

namespace sentencepiece {
class SentencePieceProcessor;
}

namespace primer::data {

struct TokenizerTrainingOptions {
  std::vector<std::string> inputs;  // files or directories
  std::string model_prefix;         // writes PREFIX.model and PREFIX.vocab
  std::int64_t vocab_size = 8000;
  std::string model_type = "bpe";  // bpe or unigram
  double character_coverage = 0.9995;
  bool byte_fallback = true;                   // unknown characters become UTF-8 bytes instead of <unk>
  std::int64_t max_sentence_length = 1 << 16;  // bytes; SentencePiece drops longer lines silently
  std::int64_t input_sentence_size = 0;        // sample this many lines (0: all)
  std::vector<std::string> user_defined_symbols;
  int threads = 0;  // 0: every core
  ReadOptions read;
};

// Returns the number of lines the trainer saw.
std::int64_t train_tokenizer(const TokenizerTrainingOptions& options);

class Tokenizer {
 public:
  explicit Tokenizer(const std::string& model_path);
  ~Tokenizer();
  Tokenizer(const Tokenizer&) = delete;
  Tokenizer& operator=(const Tokenizer&) = delete;

  std::vector<std::int32_t> encode(const std::string& text) const;  // thread-safe
  std::string decode(const std::vector<std::int32_t>& ids) const;
  std::int64_t vocab_size() const;
  std::int32_t eos_id() const;
  std::int32_t bos_id() const;
  std::int32_t pad_id() const;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::unique_ptr<sentencepiece::SentencePieceProcessor> processor_;
};

}  // namespace primer::data
