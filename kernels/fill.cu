#include "fill.cuh"

namespace primer::kernels {
namespace {

__global__ void fill_f32_kernel(float* data, std::int64_t count, float value) {
  // Grid-stride loop: any count with a bounded grid.
  for (std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; i < count;
       i += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    data[i] = value;
  }
}

}  // namespace

cudaError_t fill_f32(float* data, std::int64_t count, float value, cudaStream_t stream) {
  constexpr int threads = 256;
  const std::int64_t wanted = (count + threads - 1) / threads;
  const int blocks = static_cast<int>(wanted < 65535 ? (wanted > 0 ? wanted : 1) : 65535);
  fill_f32_kernel<<<blocks, threads, 0, stream>>>(data, count, value);
  return cudaGetLastError();
}

}  // namespace primer::kernels
