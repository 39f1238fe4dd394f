#pragma once
// The kernels behind layer_norm and rms_norm: one signature each, defined once per device
// (normalization_cpu.cpp, normalization_cuda.cpp). normalization.cpp checks shapes before calling them.
// Over the last dimension C of x ([N, C]); beta and grad_beta may be undefined (scale-only norm);
// mean and rstd are [N] in stats_dtype(x).
#include "primer/backend/kernel_table.h"
#include "primer/tensor/tensor.h"

namespace primer::ops {

using LayerNormForward = void(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps,
                              const Tensor& y, const Tensor& mean, const Tensor& rstd);
using LayerNormBackward = void(const Tensor& grad_y, const Tensor& x, const Tensor& gamma, const Tensor& mean,
                               const Tensor& rstd, const Tensor& grad_x, const Tensor& grad_gamma,
                               const Tensor& grad_beta);
using RmsNormForward = void(const Tensor& x, const Tensor& gamma, double eps, const Tensor& y,
                            const Tensor& rstd);
using RmsNormBackward = void(const Tensor& grad_y, const Tensor& x, const Tensor& gamma, const Tensor& rstd,
                             const Tensor& grad_x, const Tensor& grad_gamma);

// RMSNorm's backward, for the fused ops whose forward ends in an RMSNorm (residual_rms_norm).
extern const KernelTable<RmsNormBackward*> rms_norm_backward_kernels;

}  // namespace primer::ops

namespace primer {

PRIMER_DECLARE_KERNEL(ops::LayerNormForward, layer_norm_forward)
PRIMER_DECLARE_KERNEL(ops::LayerNormBackward, layer_norm_backward)
PRIMER_DECLARE_KERNEL(ops::RmsNormForward, rms_norm_forward)
PRIMER_DECLARE_KERNEL(ops::RmsNormBackward, rms_norm_backward)

}  // namespace primer
