#include "device_support.cuh"
#include "ops/rotary/rotary.cuh"
#include "ops/rotary/rotary_formulas.h"

namespace primer::kernels {
namespace {

__global__ void rotary_kernel(const float* x, std::int64_t time, std::int64_t heads, std::int64_t half,
                              std::int64_t position_offset, double base, bool inverse, std::int64_t pairs,
                              float* out) {
  PRIMER_GRID_STRIDE(p, pairs) {
    const std::int64_t i = p % half, row = p / half;  // row = (b * time + t) * heads + h
    const std::int64_t t = (row / heads) % time;
    const double angle = ops::rotary_angle(position_offset + t, i, half, base);
    const float c = static_cast<float>(cos(angle));
    const float s = static_cast<float>(inverse ? -sin(angle) : sin(angle));
    const std::int64_t first = row * 2 * half + i;
    const float a = x[first], b = x[first + half];
    out[first] = a * c - b * s;
    out[first + half] = a * s + b * c;
  }
}

}  // namespace

cudaError_t rotary(const float* x, std::int64_t batch, std::int64_t time, std::int64_t heads,
                   std::int64_t dim, std::int64_t position_offset, double base, bool inverse, float* out,
                   cudaStream_t stream) {
  const std::int64_t half = dim / 2, pairs = batch * time * heads * half;
  PRIMER_LAUNCH(rotary_kernel, blocks_for(pairs), kThreads, 0, stream, x, time, heads, half, position_offset,
                base, inverse, pairs, out);
  return cudaGetLastError();
}

}  // namespace primer::kernels
