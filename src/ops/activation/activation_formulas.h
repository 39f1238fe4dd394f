#pragma once
// Each activation's value and derivative, written once: g++ compiles them into the CPU loops
// (activation_cpu.cpp, S = float or double) and nvcc into the CUDA kernels (activation.cu, S = float).
// A new activation is a value in Activation (ops/activation_kind.h), its two formulas here and its case in
// dispatch_activation.
#include <cmath>
#include <type_traits>

#include "primer/core/host_device.h"
#include "primer/ops/activation_kind.h"

namespace primer::ops {

template <class S>
PRIMER_HOST_DEVICE S sigmoid(S x) {
  return S(1) / (S(1) + std::exp(-x));
}

// GELU's tanh approximation, as Mesh-TF and PyTorch's approximate="tanh" define it.
template <class S>
PRIMER_HOST_DEVICE S gelu_tanh_inner(S x) {
  constexpr S kAlpha = S(0.7978845608028654);  // sqrt(2 / pi)
  constexpr S kBeta = S(0.044715);
  return std::tanh(kAlpha * (x + kBeta * x * x * x));
}

// The activation is a template argument, so each loop over elements compiles to straight-line code (the
// CPU's vectorise) instead of branching on the kind at every element.
template <Activation K, class S>
PRIMER_HOST_DEVICE S activate(S x) {
  if constexpr (K == Activation::relu) return x > S(0) ? x : S(0);
  if constexpr (K == Activation::squared_relu) return x > S(0) ? x * x : S(0);
  if constexpr (K == Activation::gelu_tanh) return S(0.5) * x * (S(1) + gelu_tanh_inner(x));
  if constexpr (K == Activation::silu) return x * sigmoid(x);
}

template <Activation K, class S>
PRIMER_HOST_DEVICE S activate_derivative(S x) {
  if constexpr (K == Activation::relu) return x > S(0) ? S(1) : S(0);
  if constexpr (K == Activation::squared_relu) return x > S(0) ? S(2) * x : S(0);
  if constexpr (K == Activation::gelu_tanh) {
    constexpr S kAlpha = S(0.7978845608028654);
    constexpr S kBeta = S(0.044715);
    const S t = gelu_tanh_inner(x);
    return S(0.5) * (S(1) + t) + S(0.5) * x * (S(1) - t * t) * kAlpha * (S(1) + S(3) * kBeta * x * x);
  }
  if constexpr (K == Activation::silu) {
    const S s = sigmoid(x);
    return s * (S(1) + x * (S(1) - s));
  }
}

// The derivative written in the output y = activate<K>(x), for the kinds whose output determines it
// (has_derivative_from_output): a fused producer (the FFN's first linear with the activation as its
// GEMM's epilogue) then keeps y alone. Squared ReLU: y = relu(x)^2, so 2 relu(x) = 2 sqrt(y).
PRIMER_HOST_DEVICE constexpr bool has_derivative_from_output(Activation kind) {
  return kind == Activation::relu || kind == Activation::squared_relu;
}

template <Activation K, class S>
PRIMER_HOST_DEVICE S derivative_from_output(S y) {
  static_assert(has_derivative_from_output(K), "the output does not determine this activation's derivative");
  if constexpr (K == Activation::relu) return y > S(0) ? S(1) : S(0);
  if constexpr (K == Activation::squared_relu) return S(2) * std::sqrt(y);
}

// Calls body(std::integral_constant<Activation, kind>{}) for a kind with has_derivative_from_output;
// false for any other.
template <class Body>
bool dispatch_output_derivative(Activation kind, Body&& body) {
  switch (kind) {
    case Activation::relu: body(std::integral_constant<Activation, Activation::relu>{}); return true;
    case Activation::squared_relu:
      body(std::integral_constant<Activation, Activation::squared_relu>{});
      return true;
    default: return false;
  }
}

// Calls body(std::integral_constant<Activation, kind>{}); false for a kind it does not know.
template <class Body>
bool dispatch_activation(Activation kind, Body&& body) {
  switch (kind) {
    case Activation::relu: body(std::integral_constant<Activation, Activation::relu>{}); return true;
    case Activation::squared_relu:
      body(std::integral_constant<Activation, Activation::squared_relu>{});
      return true;
    case Activation::gelu_tanh:
      body(std::integral_constant<Activation, Activation::gelu_tanh>{});
      return true;
    case Activation::silu: body(std::integral_constant<Activation, Activation::silu>{}); return true;
  }
  return false;
}

}  // namespace primer::ops
