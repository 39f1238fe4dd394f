#pragma once
// The causal depthwise convolution's kernels, defined once per device (causal_dconv_cpu.cpp,
// causal_dconv_cuda.cpp); causal_dconv.cpp checks the shapes. x, y, grad_x: [B, T, C]; weight,
// grad_weight: [3, C] with tap 0 on the current position.
#include "primer/backend/kernel_table.h"
#include "primer/tensor/tensor.h"

namespace primer::ops {

using CausalDconvForward = void(const Tensor& x, const Tensor& weight, const Tensor& y);
using CausalDconvBackward = void(const Tensor& grad_y, const Tensor& x, const Tensor& weight,
                                 const Tensor& grad_x, const Tensor& grad_weight);

}  // namespace primer::ops

namespace primer {

PRIMER_DECLARE_KERNEL(ops::CausalDconvForward, causal_dconv_forward)
PRIMER_DECLARE_KERNEL(ops::CausalDconvBackward, causal_dconv_backward)

}  // namespace primer
