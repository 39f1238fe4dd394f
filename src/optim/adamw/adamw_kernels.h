#pragma once
// The AdamW update kernel, defined once per device (adamw_cpu.cpp, adamw_cuda.cpp); adamw.cpp checks the
// operands' shapes. It takes every parameter of a step at once, so that a GPU updates them in a few
// launches instead of one per parameter (PyTorch's fused AdamW does the same). In place on each param
// (f32 master weights, f64 in tests) and its moments m and v.
#include <span>

#include "optim/adamw/adamw_formulas.h"
#include "primer/backend/kernel_table.h"
#include "primer/tensor/tensor.h"

namespace primer::optim {

struct AdamWTensors {
  Tensor param;
  Tensor grad;
  Tensor m;
  Tensor v;
  bool decay;  // whether step.weight_decay applies to this parameter
};

using AdamWKernel = void(std::span<const AdamWTensors> tensors, const AdamWStep& step);

}  // namespace primer::optim

namespace primer {

PRIMER_DECLARE_KERNEL(optim::AdamWKernel, adamw_update)

}  // namespace primer
