#include "device_support.cuh"
#include "ops/embedding/embedding.cuh"

namespace primer::kernels {
namespace {

__device__ bool id_in_table(const std::int32_t* ids, std::int64_t n, std::int64_t c, std::int64_t rows,
                            DeviceFault* fault) {
  const std::int32_t id = ids[n];
  if (id >= 0 && id < rows) return true;
  if (c == 0) report_fault(fault, FaultKind::embedding_id, n, id, rows);
  return false;
}

__global__ void embedding_forward_kernel(const float* table, std::int64_t rows, std::int64_t width,
                                         const std::int32_t* ids, std::int64_t count, float* out,
                                         DeviceFault* fault) {
  PRIMER_GRID_STRIDE(i, count * width) {
    const std::int64_t n = i / width, c = i % width;
    out[i] =
        id_in_table(ids, n, c, rows, fault) ? table[static_cast<std::int64_t>(ids[n]) * width + c] : 0.0f;
  }
}

__global__ void embedding_backward_kernel(const float* grad_out, const std::int32_t* ids, std::int64_t count,
                                          std::int64_t rows, std::int64_t width, float* grad_table,
                                          DeviceFault* fault) {
  PRIMER_GRID_STRIDE(i, count * width) {
    const std::int64_t n = i / width, c = i % width;
    if (id_in_table(ids, n, c, rows, fault))
      atomicAdd(grad_table + static_cast<std::int64_t>(ids[n]) * width + c, grad_out[i]);
  }
}

}  // namespace

cudaError_t embedding_forward(const float* table, std::int64_t rows, std::int64_t width,
                              const std::int32_t* ids, std::int64_t count, float* out, DeviceFault* fault,
                              cudaStream_t stream) {
  PRIMER_LAUNCH(embedding_forward_kernel, blocks_for(count * width), kThreads, 0, stream, table, rows, width,
                ids, count, out, fault);
  return cudaGetLastError();
}

cudaError_t embedding_backward(const float* grad_out, const std::int32_t* ids, std::int64_t count,
                               std::int64_t rows, std::int64_t width, float* grad_table, DeviceFault* fault,
                               cudaStream_t stream) {
  PRIMER_LAUNCH(embedding_backward_kernel, blocks_for(count * width), kThreads, 0, stream, grad_out, ids,
                count, rows, width, grad_table, fault);
  return cudaGetLastError();
}

}  // namespace primer::kernels
