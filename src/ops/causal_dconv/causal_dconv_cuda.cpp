#include "backend/cuda/cuda_kernel_support.h"
#include "ops/causal_dconv/causal_dconv.cuh"
#include "ops/causal_dconv/causal_dconv_kernels.h"

namespace primer::cuda {

void causal_dconv_forward(const Tensor& x, const Tensor& weight, const Tensor& y) {
  const char* op = "causal_dconv";
  PRIMER_CUDA_CHECK(kernels::causal_dconv_forward(f32(x, op, "x"), f32(weight, op, "weight"), x.size(0),
                                                  x.size(1), x.size(2), f32(y, op, "y"), stream()));
}

void causal_dconv_backward(const Tensor& grad_y, const Tensor& x, const Tensor& weight, const Tensor& grad_x,
                           const Tensor& grad_weight) {
  const char* op = "causal_dconv backward";
  const Tensor partials =
      cuda_backend().scratch(kernels::causal_dconv_backward_scratch_size(x.size(2)), DType::f32);
  PRIMER_CUDA_CHECK(kernels::causal_dconv_backward(f32(grad_y, op, "grad_y"), f32(x, op, "x"),
                                                   f32(weight, op, "weight"), x.size(0), x.size(1), x.size(2),
                                                   f32(partials, op, "partials"), f32(grad_x, op, "grad_x"),
                                                   f32(grad_weight, op, "grad_weight"), stream()));
}

}  // namespace primer::cuda
