#pragma once
// How CPU attention (attention_cpu.cpp) lays out its work: the sizes and query blocks (Dims), a (batch,
// head) pair's rows in the [B, T, H, D] tensors (HeadPair), and the relative bias by distance with its
// gradient (BiasByDistance).
#include <Eigen/Core>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "ops/attention/attention_kernels.h"
#include "primer/core/error.h"

namespace primer::cpu::attention_layout {

template <class T>
using RowArray = Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>>;
template <class T>
using ConstRowArray = Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>>;

constexpr std::int64_t kScoresPerBlock = 64 * 1024, kMaxQueryBlock = 256;

// Queries are the last q_time of the k_time positions the keys cover: query i sits at position
// (k_time - q_time) + i and sees keys 0 ..= that position. Training has q_time == k_time; decoding with a
// cache has fewer queries than keys.
struct Dims {
  std::int64_t batch, q_time, k_time, heads, head_dim;
  // q, k and v go through their convolutions first, a head at a time, into a thread's copies (HeadInputs).
  bool convolved = false;
  std::int64_t pairs() const { return batch * heads; }
  std::int64_t query_offset() const { return k_time - q_time; }
  // Rows of one head in a [B, T, H, D] tensor are this far apart.
  std::int64_t row_stride() const { return heads * head_dim; }
  // Rows of the queries, keys and values the products read: the tensors' rows, or a convolved copy's.
  std::int64_t input_stride() const { return convolved ? head_dim : row_stride(); }
  // Query rows a block: a multiple of 64 whose [rows, Tk] scores take at most 64K floats (256 KB in f32,
  // so that backward's two such matrices stay in a core's L2 beside the head's operands), 64 at least and
  // kMaxQueryBlock at most: the whole sequence up to T = 256, 128 rows at T = 512, 64 from T = 1024 on.
  // Taller blocks mean fewer passes of the transposed products over a head's key and value gradients,
  // each with a longer inner dimension: at T = 256, one block instead of four of 64 rows ran the f32
  // backward 1.00-1.27x as fast in three alternated runs of primer-bench-ops attention/ (best of 10
  // repetitions each, AMD Zen 5); forward and bf16 within the noise.
  std::int64_t query_block() const {
    return std::min(std::clamp<std::int64_t>(kScoresPerBlock / std::max<std::int64_t>(k_time, 1) / 64 * 64,
                                             64, kMaxQueryBlock),
                    q_time);
  }
};

inline Dims dims_of(const Tensor& q, const Tensor& k, const ops::AttentionConvolutions& convolutions) {
  return {q.size(0), q.size(1), k.size(1), q.size(2), q.size(3), convolutions.defined()};
}

// One (batch, head) pair: its index b * H + h, its head, and where its rows start in [B, Tq, H, D] and
// [B, Tk, H, D] tensors.
struct HeadPair {
  std::int64_t index, head, q_offset, k_offset;
};

inline HeadPair head_pair(const Dims& d, std::int64_t index) {
  const std::int64_t b = index / d.heads, h = index % d.heads;
  return {index, h, (b * d.q_time * d.heads + h) * d.head_dim, (b * d.k_time * d.heads + h) * d.head_dim};
}

// The relative bias by distance, per head, laid out backwards (entry m of a head's run: distance Tk - 1 - m),
// so that the bias of query i's keys 0, 1, ... is one contiguous run: entries Tk - 1 - (offset + i) on.
// Its gradient gathers per (batch, head) pair in the same layout, row by row, and goes to the buckets at
// the end, summed in a fixed order.
template <class T>
class BiasByDistance {
 public:
  BiasByDistance(const ops::AttentionBias& bias, const Dims& d) : d_(d) {
    if (!bias.defined()) return;
    const std::int64_t buckets = bias.table.size(0);
    const T* table = bias.table.data<T>();
    const std::int32_t* bucket_of = bias.distance_buckets.data<std::int32_t>();
    values_.resize(static_cast<std::size_t>(d.heads * d.k_time));
    for (std::int64_t distance = 0; distance < d.k_time; ++distance) {
      const std::int32_t bucket = bucket_of[distance];
      PRIMER_CHECK(bucket >= 0 && bucket < buckets, "attention: distance {} has bucket {}, outside [0, {})",
                   distance, bucket, buckets);
      for (std::int64_t h = 0; h < d.heads; ++h) values_[index(h, distance)] = table[bucket * d.heads + h];
    }
  }

  bool defined() const { return !values_.empty(); }
  // Query i's bias for keys 0 ..= offset + i of head h, or null without a bias.
  const T* row(std::int64_t h, std::int64_t i) const {
    return defined() ? values_.data() + index(h, d_.query_offset() + i) : nullptr;
  }

  // Gradients, one run per pair: start them, add query i's run of key gradients, then hand them to the
  // table, each bucket summing its pairs and distances in order (in double).
  void start_gradients() { gradients_.assign(static_cast<std::size_t>(d_.pairs() * d_.k_time), T(0)); }
  void add_gradient_row(std::int64_t pair, std::int64_t i, const T* grad) {
    const std::int64_t seen = d_.query_offset() + i + 1;
    RowArray<T>(gradients_.data() + index(pair, seen - 1), seen) += ConstRowArray<T>(grad, seen);
  }
  void write_table_gradient(const ops::AttentionBias& bias, const Tensor& grad_table) const {
    std::vector<double> sums(static_cast<std::size_t>(grad_table.numel()), 0.0);
    const std::int32_t* bucket_of = bias.distance_buckets.data<std::int32_t>();
    for (std::int64_t pair = 0; pair < d_.pairs(); ++pair) {
      const std::int64_t h = pair % d_.heads;
      for (std::int64_t distance = 0; distance < d_.k_time; ++distance)
        sums[static_cast<std::size_t>(bucket_of[distance] * d_.heads + h)] +=
            gradients_[index(pair, distance)];
    }
    T* out = grad_table.data<T>();
    for (std::size_t i = 0; i < sums.size(); ++i) out[i] = static_cast<T>(sums[i]);
  }

 private:
  // Where run r's (a head's, or a pair's) entry for `distance` sits; a query's run of keys 0 .. starts at
  // its own distance to key 0.
  std::size_t index(std::int64_t run, std::int64_t distance) const {
    return static_cast<std::size_t>(run * d_.k_time + d_.k_time - 1 - distance);
  }

  Dims d_;
  std::vector<T> values_, gradients_;
};

}  // namespace primer::cpu::attention_layout
