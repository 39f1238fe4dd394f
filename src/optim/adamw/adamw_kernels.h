#pragma once
// The AdamW update kernel, defined once per device (adamw_cpu.cpp, adamw_cuda.cpp); adamw.cpp checks the
// operands' shapes. In place on param (f32 master weights, f64 in tests) and its moments m and v.
#include "optim/adamw/adamw_formulas.h"
#include "primer/backend/kernel_table.h"
#include "primer/tensor/tensor.h"

namespace primer::optim {

using AdamWKernel = void(const Tensor& param, const Tensor& grad, const Tensor& m, const Tensor& v,
                         const AdamWStep& step);

}  // namespace primer::optim

namespace primer {

PRIMER_DECLARE_KERNEL(optim::AdamWKernel, adamw_update)

}  // namespace primer
