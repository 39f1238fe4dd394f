#pragma once
// The elementwise activations the backends implement (ops/activation.h is their differentiable form).

namespace primer {

enum class Activation { relu, squared_relu, gelu_tanh, silu };

}  // namespace primer
