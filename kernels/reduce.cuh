#pragma once
// Reductions: the sum and the sum of squares of an f32 array, accumulated in double in a fixed order
// (per-block partials, then one block), so the result is deterministic; column sums of [rows, cols].
#include "common.cuh"

namespace primer::kernels {

// scratch: at least reduce_scratch_size() doubles of device memory.
std::int64_t reduce_scratch_size();
cudaError_t sum(const float* x, std::int64_t count, bool squares, double* scratch, float* out,
                cudaStream_t stream);
// The same, leaving the result in double (for kernels that read it next, without a host round trip).
cudaError_t sum(const float* x, std::int64_t count, bool squares, double* scratch, double* out,
                cudaStream_t stream);
// [rows, columns] -> [columns]; scratch: sum_rows_scratch_size(columns) floats.
std::int64_t sum_rows_scratch_size(std::int64_t columns);
cudaError_t sum_rows(const float* x, std::int64_t rows, std::int64_t columns, float* scratch, float* out,
                     cudaStream_t stream);

}  // namespace primer::kernels
