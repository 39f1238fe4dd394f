// Causal softmax attention with an optional additive per-head bias. Each (batch, head) pair is computed
// with Eigen products on strided [T, D] maps of the [B, T, H, D] inputs; backward rebuilds the
// probabilities from the saved log-sum-exp instead of keeping a [B, H, T, T] tensor alive.
#include <Eigen/Core>

#include <algorithm>
#include <cmath>

#include "backend/cpu/kernel_support.h"
#include "ops/attention/attention_kernels.h"

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

// The block's rows of scores (scale * Q K^T + bias[h], in place) become, over each row's causal part,
// probabilities: exp(score - lse) with lse the log-sum-exp, computed here (forward) or given (backward).
// Entries after the query's position become 0. Rows go through Eigen arrays for its vectorised exp:
// std::exp in a loop stays scalar (it was half of the forward pass).
template <class T>
void causal_probabilities(Matrix<T>& scores, const QueryBlock& block, std::int64_t query_offset,
                          const T* bias, T* lse, bool lse_given) {
  const std::int64_t stride = scores.cols();
  for (std::int64_t i = block.begin; i < block.begin + block.rows; ++i) {
    const std::int64_t seen = query_offset + i + 1;
    T* start = scores.data() + i * stride;
    RowArray<T> row(start, seen);
    if (bias != nullptr) row += ConstRowArray<T>(bias + i * stride, seen);
    if (lse_given) {
      row = (row - lse[i]).exp();
    } else {
      const T max = row.maxCoeff();
      row = (row - max).exp();
      const T total = row.sum();
      row *= T(1) / total;
      lse[i] = max + std::log(total);
    }
    std::fill(start + seen, start + block.keys, T(0));
  }
}

template <class T>
void attention_forward_typed(const Dims& d, const Tensor& q, const Tensor& k, const Tensor& v,
                             const Tensor& bias, T scale, const Tensor& out, const Tensor& lse) {
  const T* bias_data = bias.defined() ? bias.data<T>() : nullptr;
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
      block_scores.noalias() =
          scale * (qh.middleRows(block.begin, block.rows) * kh.topRows(block.keys).transpose());
      causal_probabilities<T>(scores, block, d.query_offset(),
                              bias_data ? bias_data + h * d.q_time * d.k_time : nullptr,
                              lse.data<T>() + pair * d.q_time, false);
      oh.middleRows(block.begin, block.rows).noalias() = block_scores * vh.topRows(block.keys);
    });
  }
}

template <class T>
void attention_backward_typed(const Dims& d, const Tensor& grad_out, const Tensor& q, const Tensor& k,
                              const Tensor& v, const Tensor& bias, T scale, const Tensor& out,
                              const Tensor& lse, const Tensor& grad_q, const Tensor& grad_k,
                              const Tensor& grad_v, const Tensor& grad_bias) {
  const T* bias_data = bias.defined() ? bias.data<T>() : nullptr;
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
    const T* head_bias = bias_data ? bias_data + h * d.q_time * d.k_time : nullptr;
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
      block_probs.noalias() = scale * (q_rows * kh.topRows(block.keys).transpose());
      causal_probabilities<T>(probs, block, d.query_offset(), head_bias, row_lse, true);
      block_grad.noalias() = do_rows * vh.topRows(block.keys).transpose();
      block_grad = block_probs.cwiseProduct(block_grad.colwise() - row_dot.segment(block.begin, block.rows));
      dvh.topRows(block.keys).noalias() += block_probs.transpose() * do_rows;
      dqh.middleRows(block.begin, block.rows).noalias() = scale * (block_grad * kh.topRows(block.keys));
      dkh.topRows(block.keys).noalias() += scale * (block_grad.transpose() * q_rows);
      if (grad_bias.defined()) {
        Eigen::Map<Matrix<T>>(grad_bias.data<T>() + h * d.q_time * d.k_time, d.q_time, d.k_time)
            .block(block.begin, 0, block.rows, block.keys) += block_grad;
      }
    });
  };
  if (grad_bias.defined()) {
    grad_bias.fill(0.0);
    // One thread per head, batches in order: no races on grad_bias and a fixed summation order.
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

}  // namespace

void attention_forward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& bias, double scale,
                       DType precision, const Tensor& out, const Tensor& lse) {
  const Dims d = dims_of(q, k);
  if (q.dtype() == DType::bf16) {
    const Tensor out32 = f32_like(out);
    attention_forward(as_f32(q), as_f32(k), as_f32(v), as_f32(bias), scale, precision, out32, lse);
    out.copy_from(out32);
    return;
  }
  dispatch_floating(q.dtype(), "attention", [&](auto tag) {
    using T = compute_type<decltype(tag)>;
    check_operands({&q, &k, &v, &bias, &out, &lse}, q.dtype(), "attention");
    attention_forward_typed<T>(d, q, k, v, bias, static_cast<T>(scale), out, lse);
  });
}

void attention_backward(const Tensor& grad_out, const Tensor& q, const Tensor& k, const Tensor& v,
                        const Tensor& bias, double scale, DType precision, const Tensor& out,
                        const Tensor& lse, const Tensor& grad_q, const Tensor& grad_k, const Tensor& grad_v,
                        const Tensor& grad_bias) {
  const Dims d = dims_of(q, k);
  if (q.dtype() == DType::bf16) {
    const Tensor dq = f32_like(grad_q), dk = f32_like(grad_k), dv = f32_like(grad_v),
                 dbias = f32_like(grad_bias);
    attention_backward(as_f32(grad_out), as_f32(q), as_f32(k), as_f32(v), as_f32(bias), scale, precision,
                       as_f32(out), lse, dq, dk, dv, dbias);
    grad_q.copy_from(dq);
    grad_k.copy_from(dk);
    grad_v.copy_from(dv);
    if (grad_bias.defined()) grad_bias.copy_from(dbias);
    return;
  }
  dispatch_floating(q.dtype(), "attention backward", [&](auto tag) {
    using T = compute_type<decltype(tag)>;
    check_operands({&grad_out, &q, &k, &v, &bias, &out, &lse, &grad_q, &grad_k, &grad_v, &grad_bias},
                   q.dtype(), "attention backward");
    attention_backward_typed<T>(d, grad_out, q, k, v, bias, static_cast<T>(scale), out, lse, grad_q, grad_k,
                                grad_v, grad_bias);
  });
}

}  // namespace primer::cpu
