#pragma once
// The relative bias lookup the attention kernels share (device code: .cu files only).
#include "ops/attention/attention.cuh"

namespace primer::kernels {

// The bias of head h for query i and key j (visible: j <= (k_time - q_time) + i).
__device__ inline float relative_bias(const RelativeBiasTable& bias, const AttentionShape& s, std::int64_t h,
                                      std::int64_t i, std::int64_t j) {
  const std::int64_t bucket = bias.distance_buckets[(s.k_time - s.q_time) + i - j];
  const std::int64_t valid = bucket < 0 ? 0 : bucket >= bias.buckets ? bias.buckets - 1 : bucket;
  return bias.table[valid * s.heads + h];
}

}  // namespace primer::kernels
