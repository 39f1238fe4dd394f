#pragma once
// Corpus -> token shards. Documents are read in order, tokenized in parallel (results kept in order),
// each followed by EOS, and assigned to the train or validation split by a seeded hash of their index,
// so the split is the same whatever the thread count. The output directory holds train-NNNNN.tok,
// val-NNNNN.tok, tokenizer.model (a copy: the directory is self-contained) and meta.json.
#include <cstdint>
#include <string>
#include <vector>

#include "primer/data/document_reader.h"

namespace primer::data {

struct EncodeOptions {
  std::vector<std::string> inputs;
  std::string tokenizer;
  std::string output_directory;
  double validation_fraction = 0.005;
  std::uint64_t seed = 0;
  int threads = 0;  // 0: every core
  std::int64_t shard_tokens = 100'000'000;
  ReadOptions read;
};

struct SplitCounts {
  std::int64_t documents = 0;
  std::int64_t tokens = 0;  // EOS included
  std::int64_t bytes = 0;   // UTF-8 text
  std::int64_t shards = 0;
};

struct EncodeReport {
  SplitCounts train;
  SplitCounts validation;
  double seconds = 0.0;
  double megabytes_per_second() const;
};

EncodeReport encode_corpus(const EncodeOptions& options);

}  // namespace primer::data
