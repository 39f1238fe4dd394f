#pragma once
// Causal softmax attention with an optional additive per-head bias, flash-style in memory: no
// [T, T] score matrix is ever stored; forward keeps one log-sum-exp per query row and backward
// recomputes the probabilities from it. q, out: [B, Tq, H, D]; k, v: [B, Tk, H, D] (queries are the
// last Tq of the Tk positions); bias: [H, Tq, Tk] or null; lse: [B, H, Tq]. D <= 256.
// One warp per query row (or key row in the key/value gradient): correct and memory-lean, not yet
// tiled through shared memory.
#include "common.cuh"

namespace primer::kernels {

struct AttentionShape {
  std::int64_t batch, q_time, k_time, heads, head_dim;
};

cudaError_t attention_forward(const float* q, const float* k, const float* v, const float* bias, float scale,
                              const AttentionShape& shape, float* out, float* lse, cudaStream_t stream);
// delta: scratch of B * H * Tq floats. grad_bias (when bias is given) must start at zero; it receives
// the sum over the batch through atomics.
cudaError_t attention_backward(const float* grad_out, const float* q, const float* k, const float* v,
                               const float* bias, float scale, const float* out, const float* lse,
                               const AttentionShape& shape, float* delta, float* grad_q, float* grad_k,
                               float* grad_v, float* grad_bias, cudaStream_t stream);

}  // namespace primer::kernels
