#pragma once
// The kernels behind activation and swiglu, defined once per device (activation_cpu.cpp,
// activation_cuda.cpp); activation.cpp checks shapes before calling them. All operands share x's shape.
#include "primer/backend/kernel_table.h"
#include "primer/ops/activation_kind.h"
#include "primer/tensor/tensor.h"

namespace primer::ops {

using ActivationForward = void(Activation kind, const Tensor& x, const Tensor& y);
using ActivationBackward = void(Activation kind, const Tensor& x, const Tensor& grad_y, const Tensor& grad_x);
// grad_x = grad_y * the derivative written in the output y (relu, squared_relu); grad_x may be grad_y.
using ActivationBackwardFromOutput = void(Activation kind, const Tensor& y, const Tensor& grad_y,
                                          const Tensor& grad_x);
// y = silu(gate) * up
using SwigluForward = void(const Tensor& gate, const Tensor& up, const Tensor& y);
using SwigluBackward = void(const Tensor& gate, const Tensor& up, const Tensor& grad_y,
                            const Tensor& grad_gate, const Tensor& grad_up);

}  // namespace primer::ops

namespace primer {

PRIMER_DECLARE_KERNEL(ops::ActivationForward, activation_forward)
PRIMER_DECLARE_KERNEL(ops::ActivationBackward, activation_backward)
PRIMER_DECLARE_KERNEL(ops::ActivationBackwardFromOutput, activation_backward_from_output)
PRIMER_DECLARE_KERNEL(ops::SwigluForward, swiglu_forward)
PRIMER_DECLARE_KERNEL(ops::SwigluBackward, swiglu_backward)

}  // namespace primer
