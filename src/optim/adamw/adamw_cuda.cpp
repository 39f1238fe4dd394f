#include "backend/cuda/cuda_kernel_support.h"
#include "optim/adamw/adamw.cuh"
#include "optim/adamw/adamw_kernels.h"

namespace primer::cuda {

void adamw_update(std::span<const optim::AdamWTensors> tensors, const optim::AdamWStep& step) {
  const char* op = "adamw";
  const optim::AdamWConstants<float> decayed = optim::adamw_constants<float>(step, true);
  const optim::AdamWConstants<float> undecayed = optim::adamw_constants<float>(step, false);
  kernels::AdamWTensorList list{};
  for (const optim::AdamWTensors& t : tensors) {
    if (!list.spans.fits(t.param.numel())) {
      PRIMER_CUDA_CHECK(kernels::adamw_update(list, decayed, stream()));
      list = {};
    }
    PRIMER_CHECK(list.spans.fits(t.param.numel()), "adamw: the parameter {} is too large for one launch",
                 t.param.describe());
    const int i = list.spans.add(t.param.numel());
    list.param[i] = f32(t.param, op, "param");
    list.grad[i] = f32(t.grad, op, "grad");
    list.m[i] = f32(t.m, op, "m");
    list.v[i] = f32(t.v, op, "v");
    list.decay[i] = (t.decay ? decayed : undecayed).decay;
  }
  PRIMER_CUDA_CHECK(kernels::adamw_update(list, decayed, stream()));
}

}  // namespace primer::cuda
