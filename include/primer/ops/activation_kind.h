#pragma once
// The elementwise activations (ops/activation.h). Plain C++17, so the CUDA kernels name them too; each
// one's formula and derivative are in src/ops/activation/activation_formulas.h.

namespace primer {

enum class Activation { relu, squared_relu, gelu_tanh, silu };

}  // namespace primer
