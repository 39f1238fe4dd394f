#pragma once
// Adafactor on f32 master weights, in place, on the GPU (adafactor_formulas.h has the arithmetic).
#include "common.cuh"
#include "optim/adafactor/adafactor_formulas.h"

namespace primer::kernels {

// Matrices: rows x columns with row_state [rows] and column_state [columns], second_moment null.
// Vectors: rows = 1, second_moment [columns], row and column state null. scratch: `count` floats for the
// update, and reduce_scratch_size() + 3 doubles.
cudaError_t adafactor_update(float* param, const float* grad, float* row_state, float* column_state,
                             float* second_moment, std::int64_t rows, std::int64_t columns,
                             const optim::AdafactorStep& step, float* update, double* scratch,
                             cudaStream_t stream);

}  // namespace primer::kernels
