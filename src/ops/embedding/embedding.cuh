#pragma once
// Embedding lookup and its backward (scatter-add into the table's gradient).
#include "common.cuh"
#include "device_fault.cuh"

namespace primer::kernels {

// An id outside [0, rows) gives a zero row and a fault (device_fault.cuh), never a read past the table.
cudaError_t embedding_forward(const float* table, std::int64_t rows, std::int64_t width,
                              const std::int32_t* ids, std::int64_t count, float* out, DeviceFault* fault,
                              cudaStream_t stream);
// Accumulates into grad_table with atomics: the summation order, hence the last bits, may vary. Ids
// outside [0, rows) are skipped and reported.
cudaError_t embedding_backward(const float* grad_out, const std::int32_t* ids, std::int64_t count,
                               std::int64_t rows, std::int64_t width, float* grad_table, DeviceFault* fault,
                               cudaStream_t stream);

}  // namespace primer::kernels
