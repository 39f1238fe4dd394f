// LayerNorm and RMSNorm on the GPU: one launcher pair (normalization.cu) serves both, RMSNorm passing
// no mean and no beta.
#include "backend/cuda/cuda_kernel_support.h"
#include "ops/normalization/normalization.cuh"
#include "ops/normalization/normalization_kernels.h"

namespace primer::cuda {
namespace {

Tensor parameter_partials(std::int64_t width) {
  return cuda_backend().scratch(kernels::norm_backward_scratch_size(width), DType::f32);
}

}  // namespace

void layer_norm_forward(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps, const Tensor& y,
                        const Tensor& mean, const Tensor& rstd) {
  const char* op = "layer_norm";
  const std::int64_t width = x.size(-1);
  PRIMER_CUDA_CHECK(kernels::norm_forward(
      f32(x, op, "x"), f32(gamma, op, "gamma"), f32_or_null(beta, op, "beta"), static_cast<float>(eps),
      x.numel() / width, width, f32(y, op, "y"), f32(mean, op, "mean"), f32(rstd, op, "rstd"), stream()));
}

void layer_norm_backward(const Tensor& grad_y, const Tensor& x, const Tensor& gamma, const Tensor& mean,
                         const Tensor& rstd, const Tensor& grad_x, const Tensor& grad_gamma,
                         const Tensor& grad_beta) {
  const char* op = "layer_norm backward";
  const std::int64_t width = x.size(-1);
  PRIMER_CUDA_CHECK(kernels::norm_backward(
      f32(grad_y, op, "grad_y"), f32(x, op, "x"), f32(gamma, op, "gamma"), f32(mean, op, "mean"),
      f32(rstd, op, "rstd"), x.numel() / width, width, f32(parameter_partials(width), op, "partials"),
      f32(grad_x, op, "grad_x"), f32(grad_gamma, op, "grad_gamma"), f32_or_null(grad_beta, op, "grad_beta"),
      stream()));
}

void rms_norm_forward(const Tensor& x, const Tensor& gamma, double eps, const Tensor& y, const Tensor& rstd) {
  const char* op = "rms_norm";
  const std::int64_t width = x.size(-1);
  PRIMER_CUDA_CHECK(kernels::norm_forward(f32(x, op, "x"), f32(gamma, op, "gamma"), nullptr,
                                          static_cast<float>(eps), x.numel() / width, width, f32(y, op, "y"),
                                          nullptr, f32(rstd, op, "rstd"), stream()));
}

void rms_norm_backward(const Tensor& grad_y, const Tensor& x, const Tensor& gamma, const Tensor& rstd,
                       const Tensor& grad_x, const Tensor& grad_gamma) {
  const char* op = "rms_norm backward";
  const std::int64_t width = x.size(-1);
  PRIMER_CUDA_CHECK(kernels::norm_backward(
      f32(grad_y, op, "grad_y"), f32(x, op, "x"), f32(gamma, op, "gamma"), nullptr, f32(rstd, op, "rstd"),
      x.numel() / width, width, f32(parameter_partials(width), op, "partials"), f32(grad_x, op, "grad_x"),
      f32(grad_gamma, op, "grad_gamma"), nullptr, stream()));
}

}  // namespace primer::cuda
