#include "backend/cuda/cuda_kernel_support.h"
#include "ops/residual_rms_norm/residual_rms_norm.cuh"
#include "ops/residual_rms_norm/residual_rms_norm_kernels.h"

namespace primer::cuda {

void residual_rms_norm_forward(const Tensor& x, const Tensor& residual, const Tensor& gamma, double eps,
                               const Tensor& sum, const Tensor& y, const Tensor& rstd) {
  const char* op = "residual_rms_norm";
  const std::int64_t width = x.size(-1);
  PRIMER_CUDA_CHECK(kernels::residual_rms_norm_forward(
      f32(x, op, "x"), f32(residual, op, "residual"), f32(gamma, op, "gamma"), static_cast<float>(eps),
      x.numel() / width, width, f32(sum, op, "sum"), f32(y, op, "y"), f32(rstd, op, "rstd"), stream()));
}

}  // namespace primer::cuda
