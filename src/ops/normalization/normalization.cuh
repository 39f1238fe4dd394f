#pragma once
// LayerNorm and RMSNorm over the last dimension of [rows, width], forward and backward. mean may be
// null (RMSNorm: no centring); beta / grad_beta may be null (scale-only norm).
#include "common.cuh"

namespace primer::kernels {

cudaError_t norm_forward(const float* x, const float* gamma, const float* beta, float eps, std::int64_t rows,
                         std::int64_t width, float* y, float* mean, float* rstd, cudaStream_t stream);
// scratch: norm_backward_scratch_size(width) floats, for the parameters' column sums.
std::int64_t norm_backward_scratch_size(std::int64_t width);
cudaError_t norm_backward(const float* grad_y, const float* x, const float* gamma, const float* mean,
                          const float* rstd, std::int64_t rows, std::int64_t width, float* scratch,
                          float* grad_x, float* grad_gamma, float* grad_beta, cudaStream_t stream);

}  // namespace primer::kernels
