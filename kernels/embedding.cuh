#pragma once
// Embedding lookup and its backward (scatter-add into the table's gradient).
#include "common.cuh"

namespace primer::kernels {

cudaError_t embedding_forward(const float* table, std::int64_t rows, std::int64_t width,
                              const std::int32_t* ids, std::int64_t count, float* out, cudaStream_t stream);
// Accumulates into grad_table with atomics: the summation order, hence the last bits, may vary.
cudaError_t embedding_backward(const float* grad_out, const std::int32_t* ids, std::int64_t count,
                               std::int64_t width, float* grad_table, cudaStream_t stream);

}  // namespace primer::kernels
