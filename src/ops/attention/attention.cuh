#pragma once
// Causal softmax attention with an optional T5 relative bias, flash-style in memory: no [T, T] score matrix
// is ever stored; forward keeps one log-sum-exp per query row and backward recomputes the probabilities
// from it. q, out: [B, Tq, H, D]; k, v: [B, Tk, H, D] (queries are the last Tq of the Tk positions);
// lse: [B, H, Tq]. D <= 256.
// attention_*: f32 throughout, one warp per query row (or key row in the key/value gradient): exact, and
// slow. flash_attention_* (flash_attention.cu): the same contract on tensor cores, with bf16 products and
// f32 softmax and accumulators, for head_dim 32, 64 or 128 and 16-byte aligned q, k, v, out, grad_out.
#include <cstddef>

#include "common.cuh"
#include "device_fault.cuh"

namespace primer::kernels {

struct AttentionShape {
  std::int64_t batch, q_time, k_time, heads, head_dim;
};

// Query rows and keys per tile of the tensor-core kernels.
constexpr int kFlashAttentionTile = 64;

// T5's relative bias as the kernels read it: the logit of query i and key j of head h gets
// table[distance_buckets[(k_time - q_time) + i - j] * heads + h]. A null table: no bias. A bucket outside
// [0, buckets) is read as the nearest valid one, and check_distance_buckets reports it.
struct RelativeBiasTable {
  const float* table;                    // [buckets, H]
  const std::int32_t* distance_buckets;  // [k_time]
  std::int64_t buckets;
};

// Records the first distance whose bucket lies outside the table as a device fault (device_fault.cuh).
cudaError_t check_distance_buckets(RelativeBiasTable bias, std::int64_t k_time, DeviceFault* fault,
                                   cudaStream_t stream);

// The table's gradient is gathered by distance, deterministically: backward writes each distance's sum over
// its share of the work into a row of `distance_partials` ([rows, H, k_time] floats, zeroed by the caller,
// rows = relative_bias_partial_rows), then relative_bias_table_gradient adds the rows and each bucket's
// distances in a fixed order.
std::int64_t relative_bias_partial_rows(const AttentionShape& shape, bool tensor_cores);
std::int64_t relative_bias_gradient_scratch(const AttentionShape& shape);  // floats
cudaError_t relative_bias_table_gradient(const float* distance_partials, std::int64_t rows,
                                         const AttentionShape& shape, const std::int32_t* distance_buckets,
                                         std::int64_t buckets, float* scratch, float* grad_table,
                                         cudaStream_t stream);

cudaError_t attention_forward(const float* q, const float* k, const float* v, RelativeBiasTable bias,
                              float scale, const AttentionShape& shape, float* out, float* lse,
                              cudaStream_t stream);
// delta: scratch of B * H * Tq floats; distance_partials as above when bias.table is given, else null.
cudaError_t attention_backward(const float* grad_out, const float* q, const float* k, const float* v,
                               RelativeBiasTable bias, float scale, const float* out, const float* lse,
                               const AttentionShape& shape, float* delta, float* grad_q, float* grad_k,
                               float* grad_v, float* distance_partials, cudaStream_t stream);

// The dynamic shared memory the tensor-core kernels of one direction need at this head size (the larger of
// the two backward kernels'), or 0 when they do not take it. It must fit the device's opt-in limit: at head
// size 128 the backward needs 120 KiB, more than sm_86/89 allow (99 KiB); at 64, 88 KiB.
std::size_t flash_attention_shared_bytes(const AttentionShape& shape, bool backward);
cudaError_t flash_attention_forward(const float* q, const float* k, const float* v, RelativeBiasTable bias,
                                    float scale, const AttentionShape& shape, float* out, float* lse,
                                    cudaStream_t stream);
cudaError_t flash_attention_backward(const float* grad_out, const float* q, const float* k, const float* v,
                                     RelativeBiasTable bias, float scale, const float* out, const float* lse,
                                     const AttentionShape& shape, float* delta, float* grad_q, float* grad_k,
                                     float* grad_v, float* distance_partials, cudaStream_t stream);

}  // namespace primer::kernels
