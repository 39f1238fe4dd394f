#pragma once
// Reductions: the sum and the sum of squares of an f32 array, accumulated in double in a fixed order
// (per-block partials, then one block), so the result is deterministic; column sums of [rows, cols].
#include "common.cuh"
#include "tensor_list.cuh"

namespace primer::kernels {

// scratch: at least reduce_scratch_size() doubles of device memory.
std::int64_t reduce_scratch_size();
cudaError_t sum(const float* x, std::int64_t count, bool squares, double* scratch, float* out,
                cudaStream_t stream);
// The same, leaving the result in double (for kernels that read it next, without a host round trip).
cudaError_t sum(const float* x, std::int64_t count, bool squares, double* scratch, double* out,
                cudaStream_t stream);

constexpr int kSquaresListSize = 128;

struct SquaresList {
  BlockSpans<kSquaresListSize, 16384> spans;
  const float* x[kSquaresListSize];
};
// out[t] = the sum of list.x[t]^2 for each tensor of the list, each in the same fixed order; scratch:
// list.spans.blocks() doubles.
cudaError_t sum_squares_each(const SquaresList& list, double* scratch, float* out, cudaStream_t stream);
// [rows, columns] -> [columns]; scratch: sum_rows_scratch_size(columns) floats.
std::int64_t sum_rows_scratch_size(std::int64_t columns);
cudaError_t sum_rows(const float* x, std::int64_t rows, std::int64_t columns, float* scratch, float* out,
                     cudaStream_t stream);

}  // namespace primer::kernels
