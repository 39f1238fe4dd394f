#pragma once
// Batches of next-token windows from a directory made by encode_corpus.
//
// Training: each shard of n tokens holds (n - 1) / seq_len windows of seq_len + 1 tokens (stride
// seq_len). Every epoch the windows are shuffled by (seed, epoch); rank r of w takes the permutation's
// entries r, r + w, r + 2w, ..., so ranks see disjoint windows and together all of them (less the
// epoch's last windows_total % w). The position (epoch, windows taken) is the whole state: restoring it
// continues exactly where a saved run stopped.
//
// Validation: windows in order, rank r taking every w-th; each shard's last partial window is padded
// (targets -1, ignored by the loss), so across ranks every validation token is predicted exactly once.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "primer/data/token_shard.h"
#include "primer/tensor/tensor.h"

namespace primer::data {

struct Batch {
  Tensor inputs;   // i32 [B, T]
  Tensor targets;  // i32 [B, T]; -1 where there is nothing to predict
};

struct LoaderPosition {
  std::uint64_t epoch = 0;
  std::uint64_t windows_taken = 0;  // by this rank in this epoch
  bool operator==(const LoaderPosition&) const = default;
};

struct DatasetInfo {
  std::string directory;
  std::int64_t vocab_size = 0;
  std::int32_t eos_id = 0;
  std::string tokenizer;  // the SentencePiece model the shards were encoded with; empty if not kept
  std::vector<std::string> train_shards;
  std::vector<std::string> validation_shards;
  std::int64_t validation_bytes = 0;  // UTF-8 bytes of the validation documents (bits per byte)
};

// Reads meta.json and lists the shards; errors name the directory and what is missing.
DatasetInfo open_dataset(const std::string& directory);

struct Partition {
  int rank = 0;
  int world = 1;
};

class TrainLoader {
 public:
  TrainLoader(const std::vector<std::string>& shards, std::int64_t seq_len, std::int64_t batch_size,
              std::uint64_t seed, Partition partition = {});
  Batch next();
  LoaderPosition position() const { return position_; }
  void restore(const LoaderPosition& position);
  std::uint64_t windows_per_epoch() const { return windows_per_rank_; }

 private:
  void shuffle_for_epoch();

  std::vector<std::unique_ptr<TokenShard>> shards_;
  std::vector<std::pair<std::uint32_t, std::int64_t>> windows_;  // (shard, first token)
  std::vector<std::uint64_t> order_;                             // this epoch's permutation
  std::int64_t seq_len_;
  std::int64_t batch_size_;
  std::uint64_t seed_;
  Partition partition_;
  std::uint64_t windows_per_rank_ = 0;
  LoaderPosition position_;
};

class ValidationLoader {
 public:
  ValidationLoader(const std::vector<std::string>& shards, std::int64_t seq_len, std::int64_t batch_size,
                   Partition partition = {});
  // The next batch (the last may hold fewer rows); false once every window was returned. reset() rewinds.
  bool next(Batch& batch);
  void reset() { cursor_ = static_cast<std::size_t>(partition_.rank); }
  std::int64_t windows() const { return static_cast<std::int64_t>(windows_.size()); }

 private:
  std::vector<std::unique_ptr<TokenShard>> shards_;
  std::vector<std::pair<std::uint32_t, std::int64_t>> windows_;
  std::int64_t seq_len_;
  std::int64_t batch_size_;
  Partition partition_;
  std::size_t cursor_;
};

}  // namespace primer::data
