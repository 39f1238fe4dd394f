#pragma once
// The fused residual add and RMSNorm's forward kernel, defined once per device (residual_rms_norm_cpu.cpp,
// residual_rms_norm_cuda.cpp); residual_rms_norm.cpp checks the shapes. x, residual, sum, y: [N, C];
// gamma: [C]; rstd: [N] in stats_dtype. Backward is RMSNorm's (normalization_kernels.h) and the add's.
#include "primer/backend/kernel_table.h"
#include "primer/tensor/tensor.h"

namespace primer::ops {

using ResidualRmsNormForward = void(const Tensor& x, const Tensor& residual, const Tensor& gamma, double eps,
                                    const Tensor& sum, const Tensor& y, const Tensor& rstd);

}  // namespace primer::ops

namespace primer {

PRIMER_DECLARE_KERNEL(ops::ResidualRmsNormForward, residual_rms_norm_forward)

}  // namespace primer
