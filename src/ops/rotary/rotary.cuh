#pragma once
// Rotary position embedding on [batch, time, heads, dim]: the pair (x[i], x[i + dim/2]) at time t turns
// by (position_offset + t) * base^(-2i/dim); inverse turns the other way (the backward).
#include "common.cuh"

namespace primer::kernels {

cudaError_t rotary(const float* x, std::int64_t batch, std::int64_t time, std::int64_t heads,
                   std::int64_t dim, std::int64_t position_offset, double base, bool inverse, float* out,
                   cudaStream_t stream);

}  // namespace primer::kernels
