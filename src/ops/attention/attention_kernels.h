#pragma once
// Causal softmax attention's kernels, defined once per device (attention_cpu.cpp, attention_cuda.cpp);
// attention.cpp checks the shapes. q, out: [B, Tq, H, D]; k, v: [B, Tk, H, D] with Tk >= Tq, the queries
// being the last Tq positions (Tq < Tk when decoding against a cache); bias: T5's table [buckets, H] and
// the bucket of each distance (i32 [Tk]), both undefined when there is no bias; the logit of query i and
// key j gets table[distance_buckets[(Tk - Tq) + i - j], h]. lse: [B, H, Tq] in stats_dtype, the log-sum-exp
// of each row, saved so backward rebuilds probabilities without storing them. grad_table ([buckets, H],
// undefined without a bias) receives the sum over the batch, every query and key.
// convolutions: Multi-DConv-Head Attention's causal width-3 depthwise convolutions of q, k and v (taps
// [3, H * D] each, tap 0 on the current position, as causal_dconv's), applied to them before attention
// when defined (training's shape only: Tq == Tk); backward then returns the gradients of the unconvolved
// q, k, v and writes grad_convolutions' taps. Undefined: q, k, v are attention's operands as they are.
// precision is matmul_precision() when the op ran forward: under bf16 a device may multiply bf16 roundings
// of its f32 operands (CUDA's tensor-core kernels do, and the CPU's where it has AVX512-BF16).
#include "primer/backend/kernel_table.h"
#include "primer/tensor/tensor.h"

namespace primer::ops {

struct AttentionBias {
  Tensor table;             // [buckets, H]
  Tensor distance_buckets;  // i32 [Tk]
  bool defined() const { return table.defined(); }
};

struct AttentionConvolutions {
  Tensor q, k, v;  // [3, H * D] each
  bool defined() const { return q.defined(); }
};

using AttentionForward = void(const Tensor& q, const Tensor& k, const Tensor& v,
                              const AttentionConvolutions& convolutions, const AttentionBias& bias,
                              double scale, DType precision, const Tensor& out, const Tensor& lse);
using AttentionBackward = void(const Tensor& grad_out, const Tensor& q, const Tensor& k, const Tensor& v,
                               const AttentionConvolutions& convolutions, const AttentionBias& bias,
                               double scale, DType precision, const Tensor& out, const Tensor& lse,
                               const Tensor& grad_q, const Tensor& grad_k, const Tensor& grad_v,
                               const AttentionConvolutions& grad_convolutions, const Tensor& grad_table);

}  // namespace primer::ops

namespace primer {

PRIMER_DECLARE_KERNEL(ops::AttentionForward, attention_forward)
PRIMER_DECLARE_KERNEL(ops::AttentionBackward, attention_backward)

}  // namespace primer
