#include "primer/data/corpus_encoder.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <deque>
#include <filesystem>
#include <fstream>
#include <future>
#include <optional>
#include <thread>

#include "primer/core/error.h"
#include "primer/core/progress.h"
#include "primer/data/token_shard.h"
#include "primer/data/tokenizer.h"

namespace primer::data {
namespace {

namespace fs = std::filesystem;

struct EncodedDocument {
  bool validation;
  std::int64_t bytes;
  std::vector<std::int32_t> tokens;
};

// Writes one split's shards, rotating to a new file every shard_tokens tokens.
class SplitWriter {
 public:
  SplitWriter(std::string directory, std::string split, std::int64_t vocab_size, std::int64_t shard_tokens)
      : directory_(std::move(directory)),
        split_(std::move(split)),
        vocab_size_(vocab_size),
        shard_tokens_(shard_tokens) {}

  void append(const EncodedDocument& document) {
    if (!writer_) {
      writer_.emplace(fmt::format("{}/{}-{:05}.tok", directory_, split_, counts.shards), vocab_size_);
    }
    writer_->append(document.tokens.data(), document.tokens.size());
    counts.documents += 1;
    counts.tokens += static_cast<std::int64_t>(document.tokens.size());
    counts.bytes += document.bytes;
    if (writer_->token_count() >= shard_tokens_) close();
  }

  void close() {
    if (!writer_) return;
    writer_->finish();
    writer_.reset();
    ++counts.shards;
  }

  SplitCounts counts;

 private:
  std::string directory_;
  std::string split_;
  std::int64_t vocab_size_;
  std::int64_t shard_tokens_;
  std::optional<ShardWriter> writer_;
};

// A document's split: a seeded hash of its index, so threads and shard sizes cannot change it.
bool is_validation(std::uint64_t index, std::uint64_t seed, double fraction) {
  std::uint64_t z = index * 0x9e3779b97f4a7c15ull + seed + 0x632be59bd9b4e019ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  z ^= z >> 31;
  return static_cast<double>(z >> 11) * 0x1.0p-53 < fraction;
}

void remove_outputs(const std::string& directory) {
  for (const auto& entry : fs::directory_iterator(directory)) {
    const std::string name = entry.path().filename().string();
    if (name.ends_with(".tok") || name.find(".tok.tmp.") != std::string::npos || name == "meta.json") {
      fs::remove(entry.path());
    }
  }
}

}  // namespace

double EncodeReport::megabytes_per_second() const {
  return seconds > 0 ? static_cast<double>(train.bytes + validation.bytes) / 1e6 / seconds : 0.0;
}

EncodeReport encode_corpus(const EncodeOptions& options) {
  PRIMER_CHECK(options.validation_fraction >= 0.0 && options.validation_fraction < 1.0,
               "validation fraction must be in [0, 1), got {}", options.validation_fraction);
  PRIMER_CHECK(options.shard_tokens > 0, "shard size must be positive, got {}", options.shard_tokens);
  const Tokenizer tokenizer(options.tokenizer);
  const std::vector<std::string> files = expand_inputs(options.inputs);
  fs::create_directories(options.output_directory);
  remove_outputs(options.output_directory);

  double total_megabytes = 0.0;
  for (const std::string& file : files) total_megabytes += static_cast<double>(fs::file_size(file)) / 1e6;
  ProgressMeter progress("encode", total_megabytes, "MB");
  const unsigned threads = options.threads > 0 ? static_cast<unsigned>(options.threads)
                                               : std::max(1u, std::thread::hardware_concurrency());

  SplitWriter train(options.output_directory, "train", tokenizer.vocab_size(), options.shard_tokens);
  SplitWriter validation(options.output_directory, "val", tokenizer.vocab_size(), options.shard_tokens);
  std::deque<std::future<std::vector<EncodedDocument>>> in_flight;
  std::vector<Document> chunk;
  std::int64_t chunk_bytes = 0;
  std::uint64_t document_index = 0;
  double megabytes_done = 0.0;

  auto drain_one = [&] {
    for (const EncodedDocument& document : in_flight.front().get()) {
      (document.validation ? validation : train).append(document);
    }
    in_flight.pop_front();
  };
  auto submit = [&] {
    if (chunk.empty()) return;
    std::vector<bool> splits;
    for (std::size_t i = 0; i < chunk.size(); ++i) {
      splits.push_back(is_validation(document_index++, options.seed, options.validation_fraction));
    }
    in_flight.push_back(std::async(std::launch::async, [&tokenizer, documents = std::move(chunk), splits] {
      std::vector<EncodedDocument> encoded;
      encoded.reserve(documents.size());
      for (std::size_t i = 0; i < documents.size(); ++i) {
        std::vector<std::int32_t> tokens = tokenizer.encode(documents[i].text);
        tokens.push_back(tokenizer.eos_id());
        encoded.push_back(
            {splits[i], static_cast<std::int64_t>(documents[i].text.size()), std::move(tokens)});
      }
      return encoded;
    }));
    chunk.clear();
    chunk_bytes = 0;
    while (in_flight.size() > 2 * threads) drain_one();
  };

  try {
    for (const std::string& file : files) {
      read_documents(file, options.read, [&](Document&& document) {
        chunk_bytes += static_cast<std::int64_t>(document.text.size());
        chunk.push_back(std::move(document));
        if (chunk_bytes >= (1 << 20)) submit();
      });
      submit();
      megabytes_done += static_cast<double>(fs::file_size(file)) / 1e6;
      progress.update(megabytes_done,
                      fmt::format("{} tokens", train.counts.tokens + validation.counts.tokens));
    }
    while (!in_flight.empty()) drain_one();
    train.close();
    validation.close();
  } catch (...) {
    for (auto& pending : in_flight) pending.wait();
    remove_outputs(options.output_directory);
    throw;
  }

  EncodeReport report{train.counts, validation.counts, progress.elapsed_seconds()};
  PRIMER_CHECK(report.train.tokens > 0, "{}: the corpus produced no training tokens",
               options.output_directory);
  fs::copy_file(options.tokenizer, options.output_directory + "/tokenizer.model",
                fs::copy_options::overwrite_existing);
  auto split_json = [](const SplitCounts& counts) {
    return nlohmann::json{{"documents", counts.documents},
                          {"tokens", counts.tokens},
                          {"bytes", counts.bytes},
                          {"shards", counts.shards}};
  };
  const nlohmann::json meta{{"format", "primer-token-shards"},
                            {"version", kShardVersion},
                            {"tokenizer", "tokenizer.model"},
                            {"vocab_size", tokenizer.vocab_size()},
                            {"eos_id", tokenizer.eos_id()},
                            {"inputs", options.inputs},
                            {"validation_fraction", options.validation_fraction},
                            {"seed", options.seed},
                            {"train", split_json(report.train)},
                            {"validation", split_json(report.validation)}};
  const std::string meta_path = options.output_directory + "/meta.json";
  std::ofstream(meta_path + ".tmp") << meta.dump(2) << "\n";
  fs::rename(meta_path + ".tmp", meta_path);
  progress.finish(megabytes_done,
                  fmt::format("{} documents, {} tokens", report.train.documents + report.validation.documents,
                              report.train.tokens + report.validation.tokens));
  return report;
}

}  // namespace primer::data
