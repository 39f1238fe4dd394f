#include "device_support.cuh"
#include "ops/attention/attention.cuh"
#include "ops/attention/relative_bias.cuh"

namespace primer::kernels {
namespace {

constexpr int kWarpsPerBlock = 4;
constexpr int kMaxPerLane = 8;  // head_dim <= 32 * 8

struct Row {
  std::int64_t b, h, i;  // batch, head, position within its own time axis
};

__device__ bool warp_row(const AttentionShape& s, std::int64_t rows_per_head, Row& row) {
  const std::int64_t global = static_cast<std::int64_t>(blockIdx.x) * kWarpsPerBlock + threadIdx.x / 32;
  if (global >= s.batch * s.heads * rows_per_head) return false;
  row.i = global % rows_per_head;
  row.h = (global / rows_per_head) % s.heads;
  row.b = global / (rows_per_head * s.heads);
  return true;
}

__device__ std::int64_t q_index(const AttentionShape& s, std::int64_t b, std::int64_t i, std::int64_t h) {
  return ((b * s.q_time + i) * s.heads + h) * s.head_dim;
}

__device__ std::int64_t k_index(const AttentionShape& s, std::int64_t b, std::int64_t j, std::int64_t h) {
  return ((b * s.k_time + j) * s.heads + h) * s.head_dim;
}

// The dot product of two head vectors, one lane's share then the warp's sum.
__device__ float dot(const float* a, const float* b, std::int64_t dim) {
  float total = 0.0f;
  for (std::int64_t d = threadIdx.x % 32; d < dim; d += 32) total += a[d] * b[d];
  return warp_sum(total);
}

__device__ float logit(const AttentionShape& s, const float* q, const float* k, const RelativeBiasTable& bias,
                       float scale, std::int64_t b, std::int64_t h, std::int64_t i, std::int64_t j) {
  const float value = scale * dot(q + q_index(s, b, i, h), k + k_index(s, b, j, h), s.head_dim);
  return bias.table != nullptr ? value + relative_bias(bias, s, h, i, j) : value;
}

__global__ void forward_kernel(const float* q, const float* k, const float* v, RelativeBiasTable bias,
                               float scale, AttentionShape s, float* out, float* lse) {
  Row row;
  if (!warp_row(s, s.q_time, row)) return;
  const int lane = threadIdx.x % 32;
  const std::int64_t last = s.k_time - s.q_time + row.i;
  float accumulated[kMaxPerLane] = {};
  float running_max = -INFINITY, total = 0.0f;
  for (std::int64_t j = 0; j <= last; ++j) {
    const float score = logit(s, q, k, bias, scale, row.b, row.h, row.i, j);
    const float new_max = fmaxf(running_max, score);
    const float correction = expf(running_max - new_max), weight = expf(score - new_max);
    total = total * correction + weight;
    const float* value = v + k_index(s, row.b, j, row.h);
    for (int n = 0; n < kMaxPerLane; ++n) {
      const std::int64_t d = lane + 32 * n;
      if (d < s.head_dim) accumulated[n] = accumulated[n] * correction + weight * value[d];
    }
    running_max = new_max;
  }
  float* destination = out + q_index(s, row.b, row.i, row.h);
  for (int n = 0; n < kMaxPerLane; ++n) {
    const std::int64_t d = lane + 32 * n;
    if (d < s.head_dim) destination[d] = accumulated[n] / total;
  }
  if (lane == 0) lse[(row.b * s.heads + row.h) * s.q_time + row.i] = running_max + logf(total);
}

// Per query row: delta = dO . O, then dq = scale sum_j ds_ij k_j with ds = p (dO . v_j - delta).
__global__ void query_kernel(const float* grad_out, const float* q, const float* k, const float* v,
                             RelativeBiasTable bias, float scale, const float* out, const float* lse,
                             AttentionShape s, float* delta, float* grad_q) {
  Row row;
  if (!warp_row(s, s.q_time, row)) return;
  const int lane = threadIdx.x % 32;
  const std::int64_t qi = q_index(s, row.b, row.i, row.h);
  const std::int64_t stat = (row.b * s.heads + row.h) * s.q_time + row.i;
  const float row_delta = dot(grad_out + qi, out + qi, s.head_dim);
  if (lane == 0) delta[stat] = row_delta;
  const std::int64_t last = s.k_time - s.q_time + row.i;
  float gradient[kMaxPerLane] = {};
  for (std::int64_t j = 0; j <= last; ++j) {
    const float p = expf(logit(s, q, k, bias, scale, row.b, row.h, row.i, j) - lse[stat]);
    const float ds = p * (dot(grad_out + qi, v + k_index(s, row.b, j, row.h), s.head_dim) - row_delta);
    const float* key = k + k_index(s, row.b, j, row.h);
    for (int n = 0; n < kMaxPerLane; ++n) {
      const std::int64_t d = lane + 32 * n;
      if (d < s.head_dim) gradient[n] += scale * ds * key[d];
    }
  }
  for (int n = 0; n < kMaxPerLane; ++n) {
    const std::int64_t d = lane + 32 * n;
    if (d < s.head_dim) grad_q[qi + d] = gradient[n];
  }
}

// Per key row j: dv_j = sum_i p_ij dO_i and dk_j = scale sum_i ds_ij q_i over the queries that see j.
__global__ void key_value_kernel(const float* grad_out, const float* q, const float* k, const float* v,
                                 RelativeBiasTable bias, float scale, const float* lse, const float* delta,
                                 AttentionShape s, float* grad_k, float* grad_v) {
  Row row;
  if (!warp_row(s, s.k_time, row)) return;
  const int lane = threadIdx.x % 32;
  const std::int64_t j = row.i, kj = k_index(s, row.b, j, row.h);
  const std::int64_t offset = s.k_time - s.q_time;
  float key_gradient[kMaxPerLane] = {}, value_gradient[kMaxPerLane] = {};
  for (std::int64_t i = j > offset ? j - offset : 0; i < s.q_time; ++i) {
    const std::int64_t qi = q_index(s, row.b, i, row.h);
    const std::int64_t stat = (row.b * s.heads + row.h) * s.q_time + i;
    const float p = expf(logit(s, q, k, bias, scale, row.b, row.h, i, j) - lse[stat]);
    const float ds = p * (dot(grad_out + qi, v + kj, s.head_dim) - delta[stat]);
    for (int n = 0; n < kMaxPerLane; ++n) {
      const std::int64_t d = lane + 32 * n;
      if (d < s.head_dim) {
        value_gradient[n] += p * grad_out[qi + d];
        key_gradient[n] += scale * ds * q[qi + d];
      }
    }
  }
  for (int n = 0; n < kMaxPerLane; ++n) {
    const std::int64_t d = lane + 32 * n;
    if (d < s.head_dim) {
      grad_k[kj + d] = key_gradient[n];
      grad_v[kj + d] = value_gradient[n];
    }
  }
}

// Per (batch, head, distance d): the sum of dS over the query-key pairs d apart, into
// distance_partials[b, h, d] (the probabilities recomputed once more: this path is the exact one, not the
// fast one).
__global__ void distance_gradient_kernel(const float* grad_out, const float* q, const float* k,
                                         const float* v, RelativeBiasTable bias, float scale,
                                         const float* lse, const float* delta, AttentionShape s,
                                         float* distance_partials) {
  Row row;
  if (!warp_row(s, s.k_time, row)) return;
  const std::int64_t distance = row.i, offset = s.k_time - s.q_time;
  float total = 0.0f;
  for (std::int64_t i = distance > offset ? distance - offset : 0; i < s.q_time; ++i) {
    const std::int64_t j = offset + i - distance;
    const std::int64_t stat = (row.b * s.heads + row.h) * s.q_time + i;
    const float p = expf(logit(s, q, k, bias, scale, row.b, row.h, i, j) - lse[stat]);
    total += p * (dot(grad_out + q_index(s, row.b, i, row.h), v + k_index(s, row.b, j, row.h), s.head_dim) -
                  delta[stat]);
  }
  if (threadIdx.x % 32 == 0) distance_partials[(row.b * s.heads + row.h) * s.k_time + distance] = total;
}

unsigned blocks_for_rows(std::int64_t rows) {
  return static_cast<unsigned>((rows + kWarpsPerBlock - 1) / kWarpsPerBlock);
}

}  // namespace

cudaError_t attention_forward(const float* q, const float* k, const float* v, RelativeBiasTable bias,
                              float scale, const AttentionShape& shape, float* out, float* lse,
                              cudaStream_t stream) {
  if (shape.head_dim > 32 * kMaxPerLane) return cudaErrorInvalidValue;
  const std::int64_t rows = shape.batch * shape.heads * shape.q_time;
  if (rows == 0) return cudaSuccess;
  PRIMER_LAUNCH(forward_kernel, blocks_for_rows(rows), 32 * kWarpsPerBlock, 0, stream, q, k, v, bias, scale,
                shape, out, lse);
  return cudaGetLastError();
}

cudaError_t attention_backward(const float* grad_out, const float* q, const float* k, const float* v,
                               RelativeBiasTable bias, float scale, const float* out, const float* lse,
                               const AttentionShape& shape, float* delta, float* grad_q, float* grad_k,
                               float* grad_v, float* distance_partials, cudaStream_t stream) {
  if (shape.head_dim > 32 * kMaxPerLane) return cudaErrorInvalidValue;
  const std::int64_t query_rows = shape.batch * shape.heads * shape.q_time;
  const std::int64_t key_rows = shape.batch * shape.heads * shape.k_time;
  if (query_rows == 0) return cudaSuccess;
  PRIMER_LAUNCH(query_kernel, blocks_for_rows(query_rows), 32 * kWarpsPerBlock, 0, stream, grad_out, q, k, v,
                bias, scale, out, lse, shape, delta, grad_q);
  PRIMER_LAUNCH(key_value_kernel, blocks_for_rows(key_rows), 32 * kWarpsPerBlock, 0, stream, grad_out, q, k,
                v, bias, scale, lse, delta, shape, grad_k, grad_v);
  if (bias.table != nullptr) {
    PRIMER_LAUNCH(distance_gradient_kernel, blocks_for_rows(key_rows), 32 * kWarpsPerBlock, 0, stream,
                  grad_out, q, k, v, bias, scale, lse, delta, shape, distance_partials);
  }
  return cudaGetLastError();
}

}  // namespace primer::kernels
