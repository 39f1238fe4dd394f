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

// scores = scale * Q K^T + bias[h], then, for the causal part of each row, probabilities (in place) and
// their log-sum-exp. Entries after the query's position become 0. Rows go through Eigen arrays for its
// vectorised exp: std::exp in a loop stays scalar (it was half of the forward pass).
template <class T>
void causal_softmax(Matrix<T>& scores, std::int64_t query_offset, const T* bias, T* lse) {
  const std::int64_t queries = scores.rows(), keys = scores.cols();
  for (std::int64_t i = 0; i < queries; ++i) {
    const std::int64_t seen = query_offset + i + 1;
    RowArray<T> row(scores.data() + i * keys, seen);
    if (bias != nullptr) row += ConstRowArray<T>(bias + i * keys, seen);
    const T max = row.maxCoeff();
    row = (row - max).exp();
    const T total = row.sum();
    row *= T(1) / total;
    std::fill(scores.data() + i * keys + seen, scores.data() + (i + 1) * keys, T(0));
    lse[i] = max + std::log(total);
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
    Matrix<T> scores = scale * (qh * kh.transpose());
    causal_softmax<T>(scores, d.query_offset(), bias_data ? bias_data + h * d.q_time * d.k_time : nullptr,
                      lse.data<T>() + pair * d.q_time);
    MutableHeadView<T>(out.data<T>() + q_offset, d.q_time, d.head_dim, d.row_stride()).noalias() =
        scores * vh;
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
    const T* row_lse = lse.data<T>() + (b * d.heads + h) * d.q_time;
    const T* head_bias = bias_data ? bias_data + h * d.q_time * d.k_time : nullptr;

    Matrix<T> probs = scale * (qh * kh.transpose());
    for (std::int64_t i = 0; i < d.q_time; ++i) {
      const std::int64_t seen = d.query_offset() + i + 1;
      RowArray<T> row(probs.data() + i * d.k_time, seen);
      if (head_bias != nullptr) row += ConstRowArray<T>(head_bias + i * d.k_time, seen);
      row = (row - row_lse[i]).exp();
      std::fill(probs.data() + i * d.k_time + seen, probs.data() + (i + 1) * d.k_time, T(0));
    }
    Matrix<T> grad_scores = doh * vh.transpose();
    const Eigen::Matrix<T, Eigen::Dynamic, 1> row_dot = doh.cwiseProduct(oh).rowwise().sum();
    grad_scores = probs.cwiseProduct(grad_scores.colwise() - row_dot);
    MutableHeadView<T>(grad_v.data<T>() + k_offset, d.k_time, d.head_dim, stride).noalias() =
        probs.transpose() * doh;
    MutableHeadView<T>(grad_q.data<T>() + q_offset, d.q_time, d.head_dim, stride).noalias() =
        scale * (grad_scores * kh);
    MutableHeadView<T>(grad_k.data<T>() + k_offset, d.k_time, d.head_dim, stride).noalias() =
        scale * (grad_scores.transpose() * qh);
    if (grad_bias.defined()) {
      Eigen::Map<Matrix<T>>(grad_bias.data<T>() + h * d.q_time * d.k_time, d.q_time, d.k_time) += grad_scores;
    }
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
