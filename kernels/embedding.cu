#include "device_support.cuh"
#include "embedding.cuh"

namespace primer::kernels {
namespace {

__global__ void embedding_forward_kernel(const float* table, std::int64_t width, const std::int32_t* ids,
                                         std::int64_t count, float* out) {
  PRIMER_GRID_STRIDE(i, count * width) {
    const std::int64_t n = i / width, c = i % width;
    out[i] = table[static_cast<std::int64_t>(ids[n]) * width + c];
  }
}

__global__ void embedding_backward_kernel(const float* grad_out, const std::int32_t* ids, std::int64_t count,
                                          std::int64_t width, float* grad_table) {
  PRIMER_GRID_STRIDE(i, count * width) {
    const std::int64_t n = i / width, c = i % width;
    atomicAdd(grad_table + static_cast<std::int64_t>(ids[n]) * width + c, grad_out[i]);
  }
}

}  // namespace

cudaError_t embedding_forward(const float* table, std::int64_t, std::int64_t width, const std::int32_t* ids,
                              std::int64_t count, float* out, cudaStream_t stream) {
  embedding_forward_kernel<<<blocks_for(count * width), kThreads, 0, stream>>>(table, width, ids, count, out);
  return cudaGetLastError();
}

cudaError_t embedding_backward(const float* grad_out, const std::int32_t* ids, std::int64_t count,
                               std::int64_t width, float* grad_table, cudaStream_t stream) {
  embedding_backward_kernel<<<blocks_for(count * width), kThreads, 0, stream>>>(grad_out, ids, count, width,
                                                                                grad_table);
  return cudaGetLastError();
}

}  // namespace primer::kernels
