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
// silu(gate) * up, fused.
Variable swiglu(const Variable& gate, const Variable& up);

}  // namespace primer::ops
