#include "primer/data/token_loader.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "primer/core/error.h"
#include "primer/tensor/random.h"

namespace primer::data {
namespace {

namespace fs = std::filesystem;

std::vector<std::unique_ptr<TokenShard>> open_shards(const std::vector<std::string>& paths) {
  std::vector<std::unique_ptr<TokenShard>> shards;
  for (const std::string& path : paths) shards.push_back(std::make_unique<TokenShard>(path));
  return shards;
}

void check_partition(const Partition& partition) {
  PRIMER_CHECK(partition.world >= 1 && partition.rank >= 0 && partition.rank < partition.world,
               "rank {} of a world of {} is not a valid partition", partition.rank, partition.world);
}

// Copies seq_len + 1 tokens from (shard, start) into row `row` of inputs and targets; past the end of the
// shard the inputs repeat the last token and the targets are -1.
void fill_row(const TokenShard& shard, std::int64_t start, std::int64_t seq_len, std::int64_t row,
              Batch& batch) {
  std::vector<std::int32_t> window(static_cast<std::size_t>(seq_len + 1), -1);
  const std::int64_t available = std::min(seq_len + 1, shard.size() - start);
  shard.copy(start, available, window.data());
  std::int32_t* inputs = batch.inputs.data<std::int32_t>() + row * seq_len;
  std::int32_t* targets = batch.targets.data<std::int32_t>() + row * seq_len;
  for (std::int64_t t = 0; t < seq_len; ++t) {
    inputs[t] =
        t < available ? window[static_cast<std::size_t>(t)] : window[static_cast<std::size_t>(available - 1)];
    targets[t] = window[static_cast<std::size_t>(t + 1)];
  }
}

Batch empty_batch(std::int64_t rows, std::int64_t seq_len) {
  return {Tensor::empty({rows, seq_len}, DType::i32), Tensor::empty({rows, seq_len}, DType::i32)};
}

}  // namespace

DatasetInfo open_dataset(const std::string& directory) {
  const std::string meta_path = directory + "/meta.json";
  std::ifstream in(meta_path);
  PRIMER_CHECK(in.good(), "{}: no meta.json: not a dataset made by `primer-data encode`{}", directory,
               fs::exists(directory) ? "" : " (the directory does not exist)");
  nlohmann::json meta;
  try {
    meta = nlohmann::json::parse(in);
    DatasetInfo info;
    info.directory = directory;
    info.vocab_size = meta.at("vocab_size").get<std::int64_t>();
    info.eos_id = meta.at("eos_id").get<std::int32_t>();
    if (meta.contains("tokenizer")) {
      const fs::path tokenizer = fs::path(directory) / meta.at("tokenizer").get<std::string>();
      if (fs::exists(tokenizer)) info.tokenizer = tokenizer.string();
    }
    for (const auto& entry : fs::directory_iterator(directory)) {
      const std::string name = entry.path().filename().string();
      if (!name.ends_with(".tok")) continue;
      if (name.starts_with("train-")) info.train_shards.push_back(entry.path().string());
      if (name.starts_with("val-")) info.validation_shards.push_back(entry.path().string());
    }
    std::sort(info.train_shards.begin(), info.train_shards.end());
    std::sort(info.validation_shards.begin(), info.validation_shards.end());
    info.validation_bytes = meta.at("validation").value("bytes", std::int64_t{0});
    const auto expected_train = meta.at("train").at("shards").get<std::size_t>();
    const auto expected_validation = meta.at("validation").at("shards").get<std::size_t>();
    PRIMER_CHECK(
        info.train_shards.size() == expected_train && info.validation_shards.size() == expected_validation,
        "{}: meta.json lists {} train and {} validation shards, the directory holds {} and {}", directory,
        expected_train, expected_validation, info.train_shards.size(), info.validation_shards.size());
    return info;
  } catch (const nlohmann::json::exception& error) {
    PRIMER_FAIL("{}: malformed meta.json: {}", meta_path, error.what());
  }
}

TrainLoader::TrainLoader(const std::vector<std::string>& shards, std::int64_t seq_len,
                         std::int64_t batch_size, std::uint64_t seed, Partition partition)
    : shards_(open_shards(shards)),
      seq_len_(seq_len),
      batch_size_(batch_size),
      seed_(seed),
      partition_(partition) {
  check_partition(partition);
  PRIMER_CHECK(seq_len > 0 && batch_size > 0, "loader: seq_len {} and batch size {} must be positive",
               seq_len, batch_size);
  for (std::uint32_t s = 0; s < shards_.size(); ++s) {
    for (std::int64_t start = 0; start + seq_len < shards_[s]->size(); start += seq_len)
      windows_.emplace_back(s, start);
  }
  windows_per_rank_ = windows_.size() / static_cast<std::size_t>(partition.world);
  PRIMER_CHECK(windows_per_rank_ > 0,
               "loader: {} shard(s) hold {} windows of {} tokens: too few for {} rank(s)", shards.size(),
               windows_.size(), seq_len + 1, partition.world);
  shuffle_for_epoch();
}

void TrainLoader::shuffle_for_epoch() {
  order_.resize(windows_.size());
  for (std::size_t i = 0; i < order_.size(); ++i) order_[i] = i;
  Generator generator(seed_ * 0x9e3779b97f4a7c15ull + position_.epoch);
  for (std::size_t i = order_.size(); i > 1; --i) std::swap(order_[i - 1], order_[generator.next_u64() % i]);
}

Batch TrainLoader::next() {
  Batch batch = empty_batch(batch_size_, seq_len_);
  for (std::int64_t row = 0; row < batch_size_; ++row) {
    if (position_.windows_taken == windows_per_rank_) {
      ++position_.epoch;
      position_.windows_taken = 0;
      shuffle_for_epoch();
    }
    const std::uint64_t index = order_[static_cast<std::size_t>(partition_.rank) +
                                       static_cast<std::size_t>(partition_.world) * position_.windows_taken];
    const auto& [shard, start] = windows_[index];
    fill_row(*shards_[shard], start, seq_len_, row, batch);
    ++position_.windows_taken;
  }
  return batch;
}

void TrainLoader::restore(const LoaderPosition& position) {
  PRIMER_CHECK(
      position.windows_taken <= windows_per_rank_,
      "loader: a saved position of {} windows is past this dataset's {} windows per epoch (another dataset?)",
      position.windows_taken, windows_per_rank_);
  position_ = position;
  shuffle_for_epoch();
}

ValidationLoader::ValidationLoader(const std::vector<std::string>& shards, std::int64_t seq_len,
                                   std::int64_t batch_size, Partition partition)
    : shards_(open_shards(shards)),
      seq_len_(seq_len),
      batch_size_(batch_size),
      partition_(partition),
      cursor_(static_cast<std::size_t>(partition.rank)) {
  check_partition(partition);
  PRIMER_CHECK(!shards_.empty(),
               "validation: no validation shards (encode with a validation fraction above 0)");
  for (std::uint32_t s = 0; s < shards_.size(); ++s) {
    for (std::int64_t start = 0; start + 1 < shards_[s]->size(); start += seq_len)
      windows_.emplace_back(s, start);
  }
}

bool ValidationLoader::next(Batch& batch) {
  if (cursor_ >= windows_.size()) return false;
  const std::size_t stride = static_cast<std::size_t>(partition_.world);
  const std::int64_t remaining = static_cast<std::int64_t>((windows_.size() - cursor_ + stride - 1) / stride);
  const std::int64_t rows = std::min(batch_size_, remaining);
  batch = empty_batch(rows, seq_len_);
  for (std::int64_t row = 0; row < rows; ++row, cursor_ += stride) {
    const auto& [shard, start] = windows_[cursor_];
    fill_row(*shards_[shard], start, seq_len_, row, batch);
  }
  return true;
}

}  // namespace primer::data
