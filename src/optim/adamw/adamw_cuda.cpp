#include "backend/cuda/cuda_kernel_support.h"
#include "optim/adamw/adamw.cuh"
#include "optim/adamw/adamw_kernels.h"

namespace primer::cuda {

void adamw_update(const Tensor& param, const Tensor& grad, const Tensor& m, const Tensor& v,
                  const optim::AdamWStep& step) {
  const char* op = "adamw";
  PRIMER_CUDA_CHECK(kernels::adamw_update(f32(param, op, "param"), f32(grad, op, "grad"), f32(m, op, "m"),
                                          f32(v, op, "v"), param.numel(), optim::adamw_constants<float>(step),
                                          stream()));
}

}  // namespace primer::cuda
