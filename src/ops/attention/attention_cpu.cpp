// Causal softmax attention with an optional T5 relative bias, a block of query rows at a time,
// backward rebuilding the probabilities from the saved log-sum-exp instead of keeping a [B, H, T, T]
// tensor alive. f32 training runs each block's products for every (batch, head) pair at once as oneDNN
// batched matmuls over strided views of the [B, T, H, D] inputs (oneDNN picks AVX-512 or AMX kernels at
// run time, which Eigen compiled for x86-64-v3 cannot: 3-4x its rate on such CPUs); f64 (the gradient
// checks) and decoding (fewer queries than keys, a new shape every token) use Eigen products per pair.
#include <Eigen/Core>

#include <algorithm>
#include <cmath>
#include <type_traits>
#include <utility>
#include <vector>

#include "backend/cpu/kernel_support.h"
#include "backend/cpu/vector_math.h"
#include "ops/attention/attention_kernels.h"
#include "ops/matmul/onednn_matmul.h"

namespace primer::cpu {
namespace {

template <class T>
using Matrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <class T>
using HeadView = Eigen::Map<const Matrix<T>, 0, Eigen::OuterStride<>>;
template <class T>
using MutableHeadView = Eigen::Map<Matrix<T>, 0, Eigen::OuterStride<>>;

// Queries are the last q_time of the k_time positions the keys cover: query i sits at position
// (k_time - q_time) + i and sees keys 0 ..= that position. Training has q_time == k_time; decoding with a
// cache has fewer queries than keys.
struct Dims {
  std::int64_t batch, q_time, k_time, heads, head_dim;
  std::int64_t query_offset() const { return k_time - q_time; }
  std::int64_t q_head_offset(std::int64_t b, std::int64_t h) const {
    return b * q_time * heads * head_dim + h * head_dim;
  }
  std::int64_t k_head_offset(std::int64_t b, std::int64_t h) const {
    return b * k_time * heads * head_dim + h * head_dim;
  }
  Eigen::OuterStride<> row_stride() const { return Eigen::OuterStride<>(heads * head_dim); }
};

Dims dims_of(const Tensor& q, const Tensor& k) {
  return {q.size(0), q.size(1), k.size(1), q.size(2), q.size(3)};
}

template <class T>
using RowArray = Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>>;
template <class T>
using ConstRowArray = Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>>;

// The relative bias by distance, per head, laid out backwards (entry m of a head's run: distance Tk - 1 - m),
// so that the bias of query i's keys 0, 1, ... is one contiguous run: entries Tk - 1 - (offset + i) on.
// The table's gradient gathers in the same layout, row by row, and goes to the buckets at the end.
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

  // Gradients in the same layout: start them, add query i's run of key gradients, then hand them to the
  // table, each bucket summing its distances in order (in double).
  void start_gradients() { gradients_.assign(values_.size(), T(0)); }
  void add_gradient_row(std::int64_t h, std::int64_t i, const T* grad) {
    const std::int64_t seen = d_.query_offset() + i + 1;
    RowArray<T>(gradients_.data() + index(h, seen - 1), seen) += ConstRowArray<T>(grad, seen);
  }
  void write_table_gradient(const ops::AttentionBias& bias, const Tensor& grad_table) const {
    std::vector<double> sums(static_cast<std::size_t>(grad_table.numel()), 0.0);
    const std::int32_t* bucket_of = bias.distance_buckets.data<std::int32_t>();
    for (std::int64_t h = 0; h < d_.heads; ++h) {
      for (std::int64_t distance = 0; distance < d_.k_time; ++distance)
        sums[static_cast<std::size_t>(bucket_of[distance] * d_.heads + h)] += gradients_[index(h, distance)];
    }
    T* out = grad_table.data<T>();
    for (std::size_t i = 0; i < sums.size(); ++i) out[i] = static_cast<T>(sums[i]);
  }

 private:
  // Where head h's entry for `distance` sits; a query's run of keys 0 .. starts at its own distance to key 0.
  std::size_t index(std::int64_t h, std::int64_t distance) const {
    return static_cast<std::size_t>(h * d_.k_time + d_.k_time - 1 - distance);
  }

  Dims d_;
  std::vector<T> values_, gradients_;
};

// Rows of queries are taken kQueryBlock at a time, each against only the keys its last query sees: the
// products skip the masked upper triangle (about 3/8 of them at T = 256), which a whole T x T product
// would compute and throw away.
constexpr std::int64_t kQueryBlock = 64;

// Query rows [begin, end) and the keys [0, keys) they see between them.
struct QueryBlock {
  std::int64_t begin, rows, keys;
};

template <class Body>
void for_each_query_block(const Dims& d, Body&& body) {
  for (std::int64_t begin = 0; begin < d.q_time; begin += kQueryBlock) {
    const std::int64_t end = std::min(d.q_time, begin + kQueryBlock);
    body(QueryBlock{begin, end - begin, std::min(d.k_time, d.query_offset() + end)});
  }
}

// A row of raw scores (Q K^T, in place) becomes, over its causal part (the `seen` keys), probabilities:
// exp(scale * score + bias - lse) with lse the log-sum-exp, computed here (forward) or given (backward);
// entries [seen, keys) become 0.
template <class T>
void causal_row(T* row, std::int64_t seen, std::int64_t keys, T scale, const T* bias, T& lse,
                bool lse_given) {
  RowArray<T> scores(row, seen);
  scores *= scale;
  if (bias != nullptr) scores += ConstRowArray<T>(bias, seen);
  if (lse_given) {
    exp_shifted(row, row, seen, lse);
  } else {
    const T max = scores.maxCoeff();
    const T total = exp_shifted(row, row, seen, max);
    scores *= T(1) / total;
    lse = max + std::log(total);
  }
  std::fill(row + seen, row + keys, T(0));
}

// The block's rows of head h's [q_time, k_time] score matrix, through causal_row.
template <class T>
void causal_probabilities(Matrix<T>& scores, const QueryBlock& block, std::int64_t query_offset, T scale,
                          const BiasByDistance<T>& bias, std::int64_t h, T* lse, bool lse_given) {
  const std::int64_t stride = scores.cols();
  for (std::int64_t i = block.begin; i < block.begin + block.rows; ++i) {
    causal_row(scores.data() + i * stride, query_offset + i + 1, block.keys, scale, bias.row(h, i), lse[i],
               lse_given);
  }
}

// The batched f32 path's operands: every (batch, head) pair's rows [first, first + rows) of a [B, T, H, D]
// tensor as [B, H, rows, D] (or transposed, [B, H, D, rows]); a block's scores as dense [B, H, rows, keys]
// (or transposed).
StridedMatrices head_rows(const Tensor& t, const Dims& d, std::int64_t first, std::int64_t rows) {
  const std::int64_t row_stride = d.heads * d.head_dim;
  return {t.data<float>() + first * row_stride,
          DType::f32,
          {d.batch, d.heads, rows, d.head_dim},
          {t.size(1) * row_stride, d.head_dim, row_stride, 1}};
}

StridedMatrices transposed(StridedMatrices m) {
  std::swap(m.dims[2], m.dims[3]);
  std::swap(m.strides[2], m.strides[3]);
  return m;
}

StridedMatrices scores_of_block(float* data, const Dims& d, const QueryBlock& block) {
  return {data,
          DType::f32,
          {d.batch, d.heads, block.rows, block.keys},
          {d.heads * block.rows * block.keys, block.rows * block.keys, block.keys, 1}};
}

// Calls body(pair, r, row) for every row of a block's scores, spread over the threads.
template <class Body>
void for_each_score_row(const Dims& d, const QueryBlock& block, float* scores, Body&& body) {
#pragma omp parallel for schedule(static)
  for (std::int64_t pair_row = 0; pair_row < d.batch * d.heads * block.rows; ++pair_row) {
    body(pair_row / block.rows, pair_row % block.rows, scores + pair_row * block.keys);
  }
}

void attention_forward_batched(const Dims& d, const Tensor& q, const Tensor& k, const Tensor& v,
                               const BiasByDistance<float>& bias, float scale, const Tensor& out,
                               const Tensor& lse) {
  float* row_lse = lse.data<float>();
  const Tensor scores = Tensor::empty({d.batch * d.heads * kQueryBlock * d.k_time}, DType::f32);
  for_each_query_block(d, [&](const QueryBlock& block) {
    const StridedMatrices s = scores_of_block(scores.data<float>(), d, block);
    onednn_matmul(head_rows(q, d, block.begin, block.rows), transposed(head_rows(k, d, 0, block.keys)),
                  nullptr, s, false);
    for_each_score_row(d, block, scores.data<float>(), [&](std::int64_t pair, std::int64_t r, float* row) {
      const std::int64_t i = block.begin + r, h = pair % d.heads;
      causal_row(row, i + 1, block.keys, scale, bias.row(h, i), row_lse[pair * d.q_time + i], false);
    });
    onednn_matmul(s, head_rows(v, d, 0, block.keys), nullptr, head_rows(out, d, block.begin, block.rows),
                  false);
  });
}

void attention_backward_batched(const Dims& d, const Tensor& grad_out, const Tensor& q, const Tensor& k,
                                const Tensor& v, BiasByDistance<float>& bias, float scale, const Tensor& out,
                                const Tensor& lse, const Tensor& grad_q, const Tensor& grad_k,
                                const Tensor& grad_v) {
  float* row_lse = lse.data<float>();
  // row_dot[pair, i] = dO[i] . O[i], the softmax backward's row term.
  const Tensor row_dot = Tensor::empty({d.batch * d.heads * d.q_time}, DType::f32);
#pragma omp parallel for schedule(static)
  for (std::int64_t pair_row = 0; pair_row < d.batch * d.heads * d.q_time; ++pair_row) {
    const std::int64_t pair = pair_row / d.q_time, i = pair_row % d.q_time;
    const std::int64_t offset = d.q_head_offset(pair / d.heads, pair % d.heads) + i * d.heads * d.head_dim;
    row_dot.data<float>()[pair_row] = (ConstRowArray<float>(grad_out.data<float>() + offset, d.head_dim) *
                                       ConstRowArray<float>(out.data<float>() + offset, d.head_dim))
                                          .sum();
  }
  grad_k.fill(0.0);
  grad_v.fill(0.0);
  if (bias.defined()) bias.start_gradients();
  const std::int64_t buffer = d.batch * d.heads * kQueryBlock * d.k_time;
  const Tensor probs = Tensor::empty({buffer}, DType::f32), grad_scores = Tensor::empty({buffer}, DType::f32);
  for_each_query_block(d, [&](const QueryBlock& block) {
    const StridedMatrices p = scores_of_block(probs.data<float>(), d, block);
    const StridedMatrices ds = scores_of_block(grad_scores.data<float>(), d, block);
    const StridedMatrices q_rows = head_rows(q, d, block.begin, block.rows);
    const StridedMatrices do_rows = head_rows(grad_out, d, block.begin, block.rows);
    onednn_matmul(q_rows, transposed(head_rows(k, d, 0, block.keys)), nullptr, p, false);
    onednn_matmul(do_rows, transposed(head_rows(v, d, 0, block.keys)), nullptr, ds, false);
    // dS = P * (dO V^T - row_dot): the gradient of the biased scores, scaled by `scale` for Q K^T's
    // operands once the bias has taken its share.
    const bool scale_now = !bias.defined();
    for_each_score_row(d, block, probs.data<float>(), [&](std::int64_t pair, std::int64_t r, float* row) {
      const std::int64_t i = block.begin + r, h = pair % d.heads;
      causal_row(row, i + 1, block.keys, scale, bias.row(h, i), row_lse[pair * d.q_time + i], true);
      RowArray<float> grad(grad_scores.data<float>() + (row - probs.data<float>()), block.keys);
      grad = ConstRowArray<float>(row, block.keys) * (grad - row_dot.data<float>()[pair * d.q_time + i]);
      if (scale_now) grad *= scale;
    });
    if (bias.defined()) {
      // One thread per head, batches and rows in order: no races and a fixed summation order.
#pragma omp parallel for schedule(static)
      for (std::int64_t h = 0; h < d.heads; ++h) {
        for (std::int64_t b = 0; b < d.batch; ++b) {
          for (std::int64_t r = 0; r < block.rows; ++r) {
            RowArray<float> grad(
                grad_scores.data<float>() + ((b * d.heads + h) * block.rows + r) * block.keys, block.keys);
            bias.add_gradient_row(h, block.begin + r, grad.data());
            grad *= scale;
          }
        }
      }
    }
    onednn_matmul(transposed(p), do_rows, nullptr, head_rows(grad_v, d, 0, block.keys), true);
    onednn_matmul(ds, head_rows(k, d, 0, block.keys), nullptr, head_rows(grad_q, d, block.begin, block.rows),
                  false);
    onednn_matmul(transposed(ds), q_rows, nullptr, head_rows(grad_k, d, 0, block.keys), true);
  });
}

template <class T>
void attention_forward_typed(const Dims& d, const Tensor& q, const Tensor& k, const Tensor& v,
                             const BiasByDistance<T>& bias, T scale, const Tensor& out, const Tensor& lse) {
#pragma omp parallel for schedule(static)
  for (std::int64_t pair = 0; pair < d.batch * d.heads; ++pair) {
    const std::int64_t b = pair / d.heads, h = pair % d.heads;
    const std::int64_t q_offset = d.q_head_offset(b, h), k_offset = d.k_head_offset(b, h);
    const HeadView<T> qh(q.data<T>() + q_offset, d.q_time, d.head_dim, d.row_stride());
    const HeadView<T> kh(k.data<T>() + k_offset, d.k_time, d.head_dim, d.row_stride());
    const HeadView<T> vh(v.data<T>() + k_offset, d.k_time, d.head_dim, d.row_stride());
    MutableHeadView<T> oh(out.data<T>() + q_offset, d.q_time, d.head_dim, d.row_stride());
    Matrix<T> scores(d.q_time, d.k_time);
    for_each_query_block(d, [&](const QueryBlock& block) {
      auto block_scores = scores.block(block.begin, 0, block.rows, block.keys);
      block_scores.noalias() = qh.middleRows(block.begin, block.rows) * kh.topRows(block.keys).transpose();
      causal_probabilities<T>(scores, block, d.query_offset(), scale, bias, h,
                              lse.data<T>() + pair * d.q_time, false);
      oh.middleRows(block.begin, block.rows).noalias() = block_scores * vh.topRows(block.keys);
    });
  }
}

template <class T>
void attention_backward_typed(const Dims& d, const Tensor& grad_out, const Tensor& q, const Tensor& k,
                              const Tensor& v, BiasByDistance<T>& bias, T scale, const Tensor& out,
                              const Tensor& lse, const Tensor& grad_q, const Tensor& grad_k,
                              const Tensor& grad_v) {
  auto process = [&](std::int64_t b, std::int64_t h) {
    const std::int64_t q_offset = d.q_head_offset(b, h), k_offset = d.k_head_offset(b, h);
    const auto stride = d.row_stride();
    const HeadView<T> qh(q.data<T>() + q_offset, d.q_time, d.head_dim, stride);
    const HeadView<T> kh(k.data<T>() + k_offset, d.k_time, d.head_dim, stride);
    const HeadView<T> vh(v.data<T>() + k_offset, d.k_time, d.head_dim, stride);
    const HeadView<T> oh(out.data<T>() + q_offset, d.q_time, d.head_dim, stride);
    const HeadView<T> doh(grad_out.data<T>() + q_offset, d.q_time, d.head_dim, stride);
    MutableHeadView<T> dqh(grad_q.data<T>() + q_offset, d.q_time, d.head_dim, stride);
    MutableHeadView<T> dkh(grad_k.data<T>() + k_offset, d.k_time, d.head_dim, stride);
    MutableHeadView<T> dvh(grad_v.data<T>() + k_offset, d.k_time, d.head_dim, stride);
    T* row_lse = lse.data<T>() + (b * d.heads + h) * d.q_time;
    const Eigen::Matrix<T, Eigen::Dynamic, 1> row_dot = doh.cwiseProduct(oh).rowwise().sum();

    dkh.setZero();
    dvh.setZero();
    Matrix<T> probs(d.q_time, d.k_time);
    Matrix<T> grad_scores(d.q_time, d.k_time);
    for_each_query_block(d, [&](const QueryBlock& block) {
      const auto q_rows = qh.middleRows(block.begin, block.rows);
      const auto do_rows = doh.middleRows(block.begin, block.rows);
      auto block_probs = probs.block(block.begin, 0, block.rows, block.keys);
      auto block_grad = grad_scores.block(block.begin, 0, block.rows, block.keys);
      block_probs.noalias() = q_rows * kh.topRows(block.keys).transpose();
      causal_probabilities<T>(probs, block, d.query_offset(), scale, bias, h, row_lse, true);
      block_grad.noalias() = do_rows * vh.topRows(block.keys).transpose();
      block_grad = block_probs.cwiseProduct(block_grad.colwise() - row_dot.segment(block.begin, block.rows));
      dvh.topRows(block.keys).noalias() += block_probs.transpose() * do_rows;
      dqh.middleRows(block.begin, block.rows).noalias() = scale * (block_grad * kh.topRows(block.keys));
      dkh.topRows(block.keys).noalias() += scale * (block_grad.transpose() * q_rows);
      if (bias.defined()) {
        for (std::int64_t i = block.begin; i < block.begin + block.rows; ++i)
          bias.add_gradient_row(h, i, grad_scores.data() + i * d.k_time);
      }
    });
  };
  if (bias.defined()) {
    bias.start_gradients();
    // One thread per head, batches in order: no races on the bias gradients and a fixed summation order.
#pragma omp parallel for schedule(static)
    for (std::int64_t h = 0; h < d.heads; ++h) {
      for (std::int64_t b = 0; b < d.batch; ++b) process(b, h);
    }
  } else {
#pragma omp parallel for schedule(static)
    for (std::int64_t pair = 0; pair < d.batch * d.heads; ++pair) process(pair / d.heads, pair % d.heads);
  }
}

// bf16 runs the f32 kernel on converted copies: correct, not fast; the GPU has the real bf16 path.
Tensor as_f32(const Tensor& t) {
  return t.defined() ? t.to(DType::f32) : Tensor();
}
Tensor f32_like(const Tensor& t) {
  return t.defined() ? Tensor::empty(t.shape(), DType::f32) : Tensor();
}
ops::AttentionBias as_f32(const ops::AttentionBias& bias) {
  return {as_f32(bias.table), bias.distance_buckets};
}

}  // namespace

void attention_forward(const Tensor& q, const Tensor& k, const Tensor& v, const ops::AttentionBias& bias,
                       double scale, DType precision, const Tensor& out, const Tensor& lse) {
  const Dims d = dims_of(q, k);
  if (q.dtype() == DType::bf16) {
    const Tensor out32 = f32_like(out);
    attention_forward(as_f32(q), as_f32(k), as_f32(v), as_f32(bias), scale, precision, out32, lse);
    out.copy_from(out32);
    return;
  }
  dispatch_floating(q.dtype(), "attention", [&](auto tag) {
    using T = compute_type<decltype(tag)>;
    check_operands({&q, &k, &v, &bias.table, &out, &lse}, q.dtype(), "attention");
    const BiasByDistance<T> bias_rows(bias, d);
    if constexpr (std::is_same_v<T, float>) {
      if (d.q_time == d.k_time)
        return attention_forward_batched(d, q, k, v, bias_rows, static_cast<T>(scale), out, lse);
    }
    attention_forward_typed<T>(d, q, k, v, bias_rows, static_cast<T>(scale), out, lse);
  });
}

void attention_backward(const Tensor& grad_out, const Tensor& q, const Tensor& k, const Tensor& v,
                        const ops::AttentionBias& bias, double scale, DType precision, const Tensor& out,
                        const Tensor& lse, const Tensor& grad_q, const Tensor& grad_k, const Tensor& grad_v,
                        const Tensor& grad_table) {
  const Dims d = dims_of(q, k);
  if (q.dtype() == DType::bf16) {
    const Tensor dq = f32_like(grad_q), dk = f32_like(grad_k), dv = f32_like(grad_v),
                 dtable = f32_like(grad_table);
    attention_backward(as_f32(grad_out), as_f32(q), as_f32(k), as_f32(v), as_f32(bias), scale, precision,
                       as_f32(out), lse, dq, dk, dv, dtable);
    grad_q.copy_from(dq);
    grad_k.copy_from(dk);
    grad_v.copy_from(dv);
    if (grad_table.defined()) grad_table.copy_from(dtable);
    return;
  }
  dispatch_floating(q.dtype(), "attention backward", [&](auto tag) {
    using T = compute_type<decltype(tag)>;
    check_operands({&grad_out, &q, &k, &v, &bias.table, &out, &lse, &grad_q, &grad_k, &grad_v, &grad_table},
                   q.dtype(), "attention backward");
    BiasByDistance<T> bias_rows(bias, d);
    const auto products = [&] {
      if constexpr (std::is_same_v<T, float>) {
        if (d.q_time == d.k_time) {
          return attention_backward_batched(d, grad_out, q, k, v, bias_rows, static_cast<T>(scale), out, lse,
                                            grad_q, grad_k, grad_v);
        }
      }
      attention_backward_typed<T>(d, grad_out, q, k, v, bias_rows, static_cast<T>(scale), out, lse, grad_q,
                                  grad_k, grad_v);
    };
    products();
    if (bias.defined()) bias_rows.write_table_gradient(bias, grad_table);
  });
}

}  // namespace primer::cpu
