#pragma once
// Feed-forward activations: ReLU, squared ReLU (Primer), tanh-GELU, SiLU and the SwiGLU gate.
#include "primer/autograd/variable.h"
#include "primer/ops/activation_kind.h"

namespace primer::ops {

Variable activation(Activation kind, const Variable& x);
inline Variable relu(const Variable& x) {
  return activation(Activation::relu, x);
}
inline Variable squared_relu(const Variable& x) {
  return activation(Activation::squared_relu, x);
}
inline Variable gelu(const Variable& x) {
  return activation(Activation::gelu_tanh, x);
}
inline Variable silu(const Variable& x) {
  return activation(Activation::silu, x);
}
// grad_x = grad_y * the activation's derivative written in its output y, for relu and squared_relu (a
// producer that fused the activation kept y alone; see ops::linear_activation). Contiguous operands of
// one shape; grad_x may be grad_y.
void activation_gradient_from_output(Activation kind, const Tensor& y, const Tensor& grad_y,
                                     const Tensor& grad_x);

// silu(gate) * up, fused.
Variable swiglu(const Variable& gate, const Variable& up);

}  // namespace primer::ops
