#pragma once
// The relative bias lookup the attention kernels share (device code: .cu files only).
#include "ops/attention/attention.cuh"

namespace primer::kernels {

// The bias of head h for query i and key j (visible: j <= (k_time - q_time) + i).
__device__ inline float relative_bias(const RelativeBiasTable& bias, const AttentionShape& s, std::int64_t h,
                                      std::int64_t i, std::int64_t j) {
  return bias
      .table[static_cast<std::int64_t>(bias.distance_buckets[(s.k_time - s.q_time) + i - j]) * s.heads + h];
}

}  // namespace primer::kernels
