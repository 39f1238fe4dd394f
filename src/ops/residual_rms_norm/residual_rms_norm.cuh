#pragma once
// sum = x + residual and y = rms_norm(sum) * gamma over rows of [rows, width], one block per row.
#include "common.cuh"

namespace primer::kernels {

cudaError_t residual_rms_norm_forward(const float* x, const float* residual, const float* gamma, float eps,
                                      std::int64_t rows, std::int64_t width, float* sum, float* y,
                                      float* rstd, cudaStream_t stream);

}  // namespace primer::kernels
