// primer-data: corpora to training data.
//   primer-data train-tokenizer --input PATH... --output PREFIX [--vocab-size N] [--model-type bpe|unigram]
//   ... primer-data encode --tokenizer M.model --input PATH... --output DIR [--validation-fraction F] ...
//   primer-data stats DIR
// Inputs: text files (documents separated by blank lines), JSON Lines with a text field (C4's
// c4-*.json.gz as is), gzip-compressed versions of both, and directories of them.
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <cmath>
#include <cstdlib>
#include <thread>

#include "primer/core/logging.h"
#include "primer/data/corpus_encoder.h"
#include "primer/data/token_loader.h"
#include "primer/data/token_shard.h"
#include "primer/data/tokenizer.h"

namespace {

using namespace primer::data;

void print_stats(const std::string& directory) {
  const DatasetInfo info = open_dataset(directory);
  fmt::print("dataset      {}\n", directory);
  fmt::print("vocabulary   {} (eos {})\n", info.vocab_size, info.eos_id);
  const std::pair<const char*, const std::vector<std::string>*> splits[] = {
      {"train", &info.train_shards}, {"validation", &info.validation_shards}};
  for (const auto& [name, shards] : splits) {
    // The unigram entropy is the loss of a model that ignores context: the bar a trained model must clear.
    std::vector<std::int64_t> counts(static_cast<std::size_t>(info.vocab_size), 0);
    std::int64_t tokens = 0;
    for (const std::string& path : *shards) {
      const TokenShard shard(path);  // verifies the checksum
      for (std::int64_t i = 0; i < shard.size(); ++i) ++counts[static_cast<std::size_t>(shard[i])];
      tokens += shard.size();
    }
    double entropy = 0.0;
    for (const std::int64_t count : counts) {
      if (count > 0) {
        const double p = static_cast<double>(count) / static_cast<double>(tokens);
        entropy -= p * std::log(p);
      }
    }
    fmt::print("{:<12} {} shard(s), {} tokens, unigram entropy {:.3f} nats/token\n", name, shards->size(),
               tokens, entropy);
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"primer-data: tokenizers and token shards from text, JSONL and .gz corpora"};
  app.require_subcommand(1);

  TokenizerTrainingOptions tokenizer;
  std::string user_symbols;
  CLI::App* train = app.add_subcommand("train-tokenizer", "train a SentencePiece model");
  train->add_option("--input", tokenizer.inputs, "files or directories")->required();
  train->add_option("--output", tokenizer.model_prefix, "writes OUTPUT.model and OUTPUT.vocab")->required();
  train->add_option("--vocab-size", tokenizer.vocab_size, "pieces, special ids included")
      ->capture_default_str();
  train->add_option("--model-type", tokenizer.model_type, "bpe or unigram")->capture_default_str();
  train->add_option("--character-coverage", tokenizer.character_coverage)->capture_default_str();
  train->add_option("--byte-fallback", tokenizer.byte_fallback, "unknown characters as bytes")
      ->capture_default_str();
  train->add_option("--max-sentence-length", tokenizer.max_sentence_length, "bytes per line")
      ->capture_default_str();
  train->add_option("--input-sentence-size", tokenizer.input_sentence_size, "lines to sample (0: all)")
      ->capture_default_str();
  train->add_option("--user-defined-symbols", user_symbols, "comma-separated pieces never split");
  train->add_option("--threads", tokenizer.threads, "0: every core")->capture_default_str();
  train->add_option("--text-field", tokenizer.read.json_text_field, "JSONL field")->capture_default_str();

  EncodeOptions encode;
  CLI::App* encode_command = app.add_subcommand("encode", "tokenize a corpus into train/validation shards");
  encode_command->add_option("--tokenizer", encode.tokenizer, "SentencePiece .model")
      ->required()
      ->check(CLI::ExistingFile);
  encode_command->add_option("--input", encode.inputs, "files or directories")->required();
  encode_command->add_option("--output", encode.output_directory, "dataset directory")->required();
  encode_command->add_option("--validation-fraction", encode.validation_fraction, "share of documents")
      ->capture_default_str();
  encode_command->add_option("--seed", encode.seed, "for the train/validation split")->capture_default_str();
  encode_command->add_option("--threads", encode.threads, "0: every core")->capture_default_str();
  encode_command->add_option("--shard-tokens", encode.shard_tokens, "tokens per shard file")
      ->capture_default_str();
  encode_command->add_option("--text-field", encode.read.json_text_field, "JSONL field")
      ->capture_default_str();

  std::string stats_directory;
  CLI::App* stats = app.add_subcommand("stats", "token counts of a dataset (verifies every shard)");
  stats->add_option("directory", stats_directory)->required();

  CLI11_PARSE(app, argc, argv);
  try {
    if (train->parsed()) {
      for (std::size_t start = 0; !user_symbols.empty() && start <= user_symbols.size();) {
        const std::size_t end = std::min(user_symbols.find(',', start), user_symbols.size());
        tokenizer.user_defined_symbols.push_back(user_symbols.substr(start, end - start));
        start = end + 1;
      }
      const std::int64_t lines = train_tokenizer(tokenizer);
      primer::log().info("wrote {}.model ({} pieces, trained on {} lines)", tokenizer.model_prefix,
                         tokenizer.vocab_size, lines);
    } else if (encode_command->parsed()) {
      const EncodeReport report = encode_corpus(encode);
      const double bytes = static_cast<double>(report.train.bytes + report.validation.bytes);
      const double tokens = static_cast<double>(report.train.tokens + report.validation.tokens);
      fmt::print("train        {} documents, {} tokens, {} shard(s)\n", report.train.documents,
                 report.train.tokens, report.train.shards);
      fmt::print("validation   {} documents, {} tokens, {} shard(s)\n", report.validation.documents,
                 report.validation.tokens, report.validation.shards);
      fmt::print("throughput   {:.1f} MB/s of text ({:.1f} s, {} threads)\n", report.megabytes_per_second(),
                 report.seconds,
                 encode.threads > 0 ? encode.threads : static_cast<int>(std::thread::hardware_concurrency()));
      fmt::print("ratio        {:.3f} tokens per byte, {:.2f} bytes per token\n", tokens / bytes,
                 bytes / tokens);
    } else {
      print_stats(stats_directory);
    }
    return EXIT_SUCCESS;
  } catch (const std::exception& error) {
    fmt::print(stderr, "primer-data: {}\n", error.what());
    return EXIT_FAILURE;
  }
}
