#pragma once
// Optimizer updates on f32 master weights, in place: AdamW (PyTorch's definition) and Adafactor
// (Mesh-TF's, beta1 = 0, factored second moments for matrices), matching the CPU backend.
#include "common.cuh"

namespace primer::kernels {

struct AdamWConstants {
  float beta1, beta2, eps, decay, step_size,
      correction2_sqrt;  // decay = 1 - lr wd; step_size = lr / (1 - beta1^t)
};

cudaError_t adamw_update(float* param, const float* grad, float* m, float* v, std::int64_t count,
                         const AdamWConstants& constants, cudaStream_t stream);

struct AdafactorConstants {
  double lr, decay, epsilon1, epsilon2, clip_threshold;
  bool relative_step;
};

// Matrices: rows x columns with row_state [rows] and column_state [columns], second_moment null.
// Vectors: rows = 1, second_moment [columns], row and column state null. scratch: `count` floats for the
// update, and reduce_scratch_size() + 3 doubles.
cudaError_t adafactor_update(float* param, const float* grad, float* row_state, float* column_state,
                             float* second_moment, std::int64_t rows, std::int64_t columns,
                             const AdafactorConstants& constants, float* update, double* scratch,
                             cudaStream_t stream);

}  // namespace primer::kernels
