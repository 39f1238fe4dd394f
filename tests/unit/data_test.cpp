// The data pipeline: tokenizer round trips and parity with Python's sentencepiece, corpus encoding
// from text/JSONL/gzip/directories, the loader's determinism, rank partition and resume, and bad input.
#include <gtest/gtest.h>
#include <zlib.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>

#include "primer/data/corpus_encoder.h"
#include "primer/data/token_loader.h"
#include "primer/data/token_shard.h"
#include "primer/data/tokenizer.h"
#include "temporary.h"

#ifndef PRIMER_SOURCE_DIR
#error "PRIMER_SOURCE_DIR must point at the repository"
#endif

namespace primer::data {
namespace {

namespace fs = std::filesystem;
using testing::temporary_path;

const std::string kMoby = std::string(PRIMER_SOURCE_DIR) + "/tests/data/moby_dick_200k.txt";

// Trained by ctest's set-up test tokenizer_trained_by_primer_data (vocabulary 1000).
std::string tokenizer_path() {
  return std::string(PRIMER_TEST_ARTIFACTS) + "/moby_tokenizer.model";
}

std::vector<std::string> moby_documents() {
  std::vector<std::string> documents;
  read_documents(kMoby, {}, [&](Document&& d) { documents.push_back(std::move(d.text)); });
  return documents;
}

// What SentencePiece's default normalisation does to spacing: runs of white space become one space,
// none at the ends.
std::string collapse_whitespace(const std::string& text) {
  std::string collapsed;
  bool pending_space = false;
  for (const char c : text) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      pending_space = !collapsed.empty();
      continue;
    }
    if (pending_space) collapsed += ' ';
    pending_space = false;
    collapsed += c;
  }
  return collapsed;
}

std::string write_file(const std::string& name, const std::string& contents) {
  const std::string path = temporary_path(name);
  std::ofstream(path, std::ios::binary) << contents;
  return path;
}

std::string write_gzip(const std::string& name, const std::string& contents) {
  const std::string path = temporary_path(name);
  gzFile file = gzopen(path.c_str(), "wb");
  gzwrite(file, contents.data(), static_cast<unsigned>(contents.size()));
  gzclose(file);
  return path;
}

EncodeReport encode(const std::vector<std::string>& inputs, const std::string& output, int threads = 2,
                    double validation_fraction = 0.1) {
  EncodeOptions options;
  options.inputs = inputs;
  options.tokenizer = tokenizer_path();
  options.output_directory = output;
  options.validation_fraction = validation_fraction;
  options.threads = threads;
  return encode_corpus(options);
}

void expect_error(const std::function<void()>& action, const std::string& expected) {
  try {
    action();
    ADD_FAILURE() << "no error; expected: " << expected;
  } catch (const std::exception& error) {
    EXPECT_NE(std::string(error.what()).find(expected), std::string::npos) << error.what();
  }
}

TEST(Tokenizer, RoundTripsTheTestText) {
  const Tokenizer tokenizer(tokenizer_path());
  EXPECT_EQ(tokenizer.vocab_size(), 1000);
  EXPECT_EQ(tokenizer.eos_id(), 2);
  for (const std::string& document : moby_documents()) {
    EXPECT_EQ(tokenizer.decode(tokenizer.encode(document)), collapse_whitespace(document));
  }
}

TEST(Tokenizer, MatchesPythonSentencepiece) {
  const Tokenizer tokenizer(tokenizer_path());
  std::vector<std::string> texts = moby_documents();
  texts.resize(300);
  texts.push_back("Unseen characters fall back to bytes: \xe2\x82\xac \xf0\x9f\x90\x8b \xe4\xb8\xad");
  const std::string input = write_file("texts.json", nlohmann::json(texts).dump());
  const std::string output = temporary_path("python_ids.json");
  const std::string command = std::string(PRIMER_REFERENCE_PYTHON) + " " + PRIMER_SOURCE_DIR +
                              "/tests/reference/tokenizer_reference.py " + tokenizer_path() + " " + input +
                              " " + output;
  ASSERT_EQ(std::system(command.c_str()), 0) << command;
  const nlohmann::json python = nlohmann::json::parse(std::ifstream(output));
  EXPECT_EQ(python.at("vocab_size").get<std::int64_t>(), tokenizer.vocab_size());
  for (std::size_t i = 0; i < texts.size(); ++i) {
    EXPECT_EQ(python.at("ids").at(i).get<std::vector<std::int32_t>>(), tokenizer.encode(texts[i]))
        << "text " << i;
  }
}

TEST(CorpusEncoder, TextJsonlGzipAndDirectoriesGiveTheSameTokens) {
  const std::vector<std::string> documents = moby_documents();
  std::string jsonl;
  for (const std::string& d : documents) jsonl += nlohmann::json{{"text", d}, {"url", "x"}}.dump() + "\n";
  const std::string directory = temporary_path("corpus_directory");
  fs::create_directories(directory);
  write_gzip("corpus_directory/c4-train.00000-of-01024.json.gz", jsonl);

  const EncodeReport from_text = encode({kMoby}, temporary_path("from_text"));
  const EncodeReport from_jsonl = encode({write_file("moby.jsonl", jsonl)}, temporary_path("from_jsonl"));
  const EncodeReport from_directory = encode({directory}, temporary_path("from_directory"));
  EXPECT_EQ(from_text.train.documents + from_text.validation.documents,
            static_cast<std::int64_t>(documents.size()));
  for (const EncodeReport* other : {&from_jsonl, &from_directory}) {
    EXPECT_EQ(other->train.tokens, from_text.train.tokens);
    EXPECT_EQ(other->validation.tokens, from_text.validation.tokens);
  }
  EXPECT_GT(from_text.validation.documents, 0);

  // The shards decode back to the documents, each followed by EOS.
  const DatasetInfo info = open_dataset(temporary_path("from_text"));
  const Tokenizer tokenizer(info.directory + "/tokenizer.model");
  const TokenShard shard(info.train_shards.at(0));
  std::vector<std::int32_t> tokens(static_cast<std::size_t>(shard.size()));
  shard.copy(0, shard.size(), tokens.data());
  EXPECT_EQ(tokens.back(), tokenizer.eos_id());
  const auto first_eos = std::find(tokens.begin(), tokens.end(), tokenizer.eos_id());
  EXPECT_EQ(tokenizer.decode({tokens.begin(), first_eos}), collapse_whitespace(documents.at(0)));
}

TEST(CorpusEncoder, ThreadCountDoesNotChangeTheShards) {
  encode({kMoby}, temporary_path("one_thread"), 1);
  encode({kMoby}, temporary_path("two_threads"), 2);
  for (const char* name : {"train-00000.tok", "val-00000.tok"}) {
    std::ifstream a(temporary_path("one_thread") + "/" + name, std::ios::binary);
    std::ifstream b(temporary_path("two_threads") + "/" + name, std::ios::binary);
    EXPECT_EQ(std::string(std::istreambuf_iterator<char>(a), {}),
              std::string(std::istreambuf_iterator<char>(b), {}))
        << name;
  }
}

TEST(CorpusEncoder, BadInputIsNamedAndLeavesNothingBehind) {
  const std::string output = temporary_path("bad_input_output");
  const std::string empty = write_file("empty.txt", "");
  expect_error([&] { encode({empty}, output); }, "empty.txt: no text in this file");
  const std::string invalid = write_file("invalid.txt", "fine line\n\nsecond document \xff\xfe broken\n");
  expect_error([&] { encode({kMoby, invalid}, output); }, "invalid.txt:3: invalid UTF-8 at byte 16");
  EXPECT_TRUE(fs::is_empty(output)) << "a failed encode left files in " << output;
  const std::string overlong = write_file("overlong.txt", "\xc0\xaf slash\n");
  expect_error([&] { encode({overlong}, output); }, "overlong.txt:1: invalid UTF-8 at byte 0");
  const std::string not_json = write_file("bad.jsonl", "{\"text\": \"ok\"}\n{not json}\n");
  expect_error([&] { encode({not_json}, output); }, "bad.jsonl:2: not a JSON object");
  const std::string no_field = write_file("nofield.jsonl", "{\"content\": \"ok\"}\n");
  expect_error([&] { encode({no_field}, output); }, "nofield.jsonl:1: no string field 'text'");
  expect_error([&] { encode({temporary_path("missing.txt")}, output); },
               "missing.txt: no such file or directory");
  const std::string corrupt_gzip = write_file("corrupt.json.gz", std::string("\x1f\x8b\x08\x00garbage", 12));
  expect_error([&] { encode({corrupt_gzip}, output); }, "corrupt.json.gz");
}

class ShardFiles : public ::testing::Test {
 protected:
  std::string write_shard(const std::string& name, const std::vector<std::int32_t>& tokens,
                          std::int64_t vocab) {
    const std::string path = temporary_path(name);
    ShardWriter writer(path, vocab);
    writer.append(tokens.data(), tokens.size());
    writer.finish();
    return path;
  }
  static void patch(const std::string& path, std::size_t offset, const std::string& bytes) {
    std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(static_cast<std::streamoff>(offset));
    file.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
};

TEST_F(ShardFiles, RoundTripInBothWidths) {
  const TokenShard narrow(write_shard("narrow.tok", {0, 5, 65535}, 65536));
  EXPECT_EQ(fs::file_size(narrow.path()), kShardHeaderBytes + 6);
  EXPECT_EQ(narrow[2], 65535);
  const TokenShard wide(write_shard("wide.tok", {0, 70000, 3}, 70001));
  EXPECT_EQ(fs::file_size(wide.path()), kShardHeaderBytes + 12);
  EXPECT_EQ(wide[1], 70000);
}

TEST_F(ShardFiles, CorruptShardsAreRejectedByName) {
  const std::vector<std::int32_t> tokens(100, 7);
  const std::string truncated = write_shard("truncated.tok", tokens, 100);
  fs::resize_file(truncated, fs::file_size(truncated) - 10);
  expect_error([&] { TokenShard shard(truncated); }, "truncated.tok: the header promises 100 tokens");
  const std::string flipped = write_shard("flipped.tok", tokens, 100);
  patch(flipped, kShardHeaderBytes + 20, "\x01");
  expect_error([&] { TokenShard shard(flipped); }, "flipped.tok: checksum mismatch");
  const std::string magic = write_shard("magic.tok", tokens, 100);
  patch(magic, 0, "GPT2TOKS");
  expect_error([&] { TokenShard shard(magic); }, "magic.tok: not a primer token shard (wrong magic)");
  const std::string version = write_shard("version.tok", tokens, 100);
  patch(version, 8, std::string("\x09\x00\x00\x00", 4));
  expect_error([&] { TokenShard shard(version); }, "shard format version 9, this build reads version 1");
  const std::string too_wide = write_shard("vocab.tok", tokens, 100);
  patch(too_wide, 24, std::string("\x70\x11\x01\x00\x00\x00\x00\x00", 8));  // 70000 with uint16 tokens
  expect_error([&] { TokenShard shard(too_wide); }, "a vocabulary of 70000 does not fit uint16 tokens");
  expect_error(
      [&] {
        write_shard("outside.tok", {5, 100}, 100);
      },
      "token 100 is outside the vocabulary of 100");
  EXPECT_FALSE(fs::exists(temporary_path("outside.tok"))) << "a failed write left a shard behind";
  expect_error([&] { TokenShard shard(write_file("tiny.tok", "PRIMRTOK")); },
               "too short for a token shard header");
}

class Loader : public ShardFiles {
 protected:
  // Two shards whose token i is i (mod vocab), so windows are recognisable by their first token.
  void SetUp() override {
    std::vector<std::int32_t> first(1001), second(642);
    for (std::size_t i = 0; i < first.size(); ++i) first[i] = static_cast<std::int32_t>(i);
    for (std::size_t i = 0; i < second.size(); ++i) second[i] = static_cast<std::int32_t>(2000 + i);
    shards_ = {write_shard("a.tok", first, 4096), write_shard("b.tok", second, 4096)};
  }
  std::vector<std::string> shards_;
  static constexpr std::int64_t kSeqLen = 10;  // 100 + 64 = 164 windows
};

std::vector<std::int32_t> window_starts(const Batch& batch) {
  std::vector<std::int32_t> starts;
  for (std::int64_t row = 0; row < batch.inputs.size(0); ++row)
    starts.push_back(batch.inputs.data<std::int32_t>()[row * batch.inputs.size(1)]);
  return starts;
}

TEST_F(Loader, WindowsAreNextTokenPairs) {
  TrainLoader loader(shards_, kSeqLen, 4, 1);
  const Batch batch = loader.next();
  for (std::int64_t i = 0; i < 4 * kSeqLen; ++i) {
    EXPECT_EQ(batch.targets.data<std::int32_t>()[i], batch.inputs.data<std::int32_t>()[i] + 1);
  }
}

TEST_F(Loader, DeterministicBySeed) {
  TrainLoader a(shards_, kSeqLen, 8, 42), b(shards_, kSeqLen, 8, 42), c(shards_, kSeqLen, 8, 43);
  bool differs = false;
  for (int step = 0; step < 30; ++step) {  // crosses an epoch boundary
    const auto sa = window_starts(a.next());
    EXPECT_EQ(sa, window_starts(b.next()));
    differs = differs || sa != window_starts(c.next());
  }
  EXPECT_TRUE(differs);
}

TEST_F(Loader, RanksSeeDisjointWindowsThatCoverTheEpoch) {
  constexpr int kWorld = 3;
  std::multiset<std::int32_t> seen;
  for (int rank = 0; rank < kWorld; ++rank) {
    TrainLoader loader(shards_, kSeqLen, 1, 5, {rank, kWorld});
    EXPECT_EQ(loader.windows_per_epoch(), 164u / kWorld);
    for (std::uint64_t i = 0; i < loader.windows_per_epoch(); ++i)
      seen.insert(window_starts(loader.next())[0]);
  }
  EXPECT_EQ(seen.size(), 162u);
  EXPECT_EQ(std::set<std::int32_t>(seen.begin(), seen.end()).size(), seen.size())
      << "a window was seen twice";
}

TEST_F(Loader, RestoredPositionContinuesExactly) {
  TrainLoader uninterrupted(shards_, kSeqLen, 7, 9);
  TrainLoader first_half(shards_, kSeqLen, 7, 9);
  for (int step = 0; step < 17; ++step) {
    uninterrupted.next();
    first_half.next();
  }
  const LoaderPosition saved = first_half.position();
  EXPECT_EQ(saved.epoch, 0u);
  TrainLoader resumed(shards_, kSeqLen, 7, 9);
  resumed.restore(saved);
  for (int step = 0; step < 40; ++step) {
    const Batch expected = uninterrupted.next();
    const Batch actual = resumed.next();
    EXPECT_EQ(actual.inputs.to_vector<std::int32_t>(), expected.inputs.to_vector<std::int32_t>())
        << "step " << step;
  }
  EXPECT_THROW(resumed.restore({0, 1000}), Error);
}

TEST_F(Loader, ValidationPredictsEveryTokenOnceAcrossRanks) {
  std::multiset<std::int32_t> predicted;
  for (int rank = 0; rank < 2; ++rank) {
    ValidationLoader loader(shards_, kSeqLen, 8, {rank, 2});
    Batch batch;
    while (loader.next(batch)) {
      for (const std::int32_t target : batch.targets.to_vector<std::int32_t>()) {
        if (target >= 0) predicted.insert(target);
      }
    }
  }
  // Every token but each shard's first is a target exactly once.
  EXPECT_EQ(predicted.size(), 1000u + 641u);
  EXPECT_EQ(std::set<std::int32_t>(predicted.begin(), predicted.end()).size(), predicted.size());
}

TEST(Dataset, MissingOrInconsistentDirectoriesAreNamed) {
  expect_error([] { open_dataset(temporary_path("no_dataset")); }, "no_dataset: no meta.json");
  encode({kMoby}, temporary_path("dataset"));
  fs::remove(temporary_path("dataset") + "/val-00000.tok");
  expect_error([] { open_dataset(temporary_path("dataset")); },
               "meta.json lists 1 train and 1 validation shards");
}

}  // namespace
}  // namespace primer::data
