// Pointwise activations (ReLU, squared ReLU, tanh-GELU, SiLU) and the SwiGLU gate.
#include <cmath>
#include <numbers>
#include <type_traits>

#include "backend/cpu/cpu_backend.h"
#include "backend/cpu/kernel_support.h"

namespace primer::cpu {
namespace {

template <class S>
S sigmoid(S x) {
  return S(1) / (S(1) + std::exp(-x));
}

// GELU's tanh approximation, as Mesh-TF and PyTorch's approximate="tanh" define it.
template <class S>
struct GeluTanh {
  static constexpr S kAlpha = S(0.7978845608028654);  // sqrt(2 / pi)
  static constexpr S kBeta = S(0.044715);
  static S value(S x) { return S(0.5) * x * (S(1) + std::tanh(kAlpha * (x + kBeta * x * x * x))); }
  static S derivative(S x) {
    const S t = std::tanh(kAlpha * (x + kBeta * x * x * x));
    return S(0.5) * (S(1) + t) + S(0.5) * x * (S(1) - t * t) * kAlpha * (S(1) + S(3) * kBeta * x * x);
  }
};

// The activation is a template argument, so each loop below compiles to its own straight-line code
// (the element-wise ones vectorise) instead of branching on the kind at every element.
template <Activation K, class S>
S activate(S x) {
  if constexpr (K == Activation::relu) return x > S(0) ? x : S(0);
  if constexpr (K == Activation::squared_relu) return x > S(0) ? x * x : S(0);
  if constexpr (K == Activation::gelu_tanh) return GeluTanh<S>::value(x);
  if constexpr (K == Activation::silu) return x * sigmoid(x);
}

template <Activation K, class S>
S activate_derivative(S x) {
  if constexpr (K == Activation::relu) return x > S(0) ? S(1) : S(0);
  if constexpr (K == Activation::squared_relu) return x > S(0) ? S(2) * x : S(0);
  if constexpr (K == Activation::gelu_tanh) return GeluTanh<S>::derivative(x);
  if constexpr (K == Activation::silu) {
    const S s = sigmoid(x);
    return s * (S(1) + x * (S(1) - s));
  }
}

// Calls body with std::integral_constant<Activation, kind>.
template <class Body>
void dispatch_activation(Activation kind, Body&& body) {
  switch (kind) {
    case Activation::relu: return body(std::integral_constant<Activation, Activation::relu>{});
    case Activation::squared_relu:
      return body(std::integral_constant<Activation, Activation::squared_relu>{});
    case Activation::gelu_tanh: return body(std::integral_constant<Activation, Activation::gelu_tanh>{});
    case Activation::silu: return body(std::integral_constant<Activation, Activation::silu>{});
  }
  PRIMER_FAIL("unknown activation {}", static_cast<int>(kind));
}

}  // namespace

void CpuBackend::activation_forward(Activation kind, const Tensor& x, const Tensor& y) {
  check_same_shape(x, y, "activation");
  dispatch_floating(x.dtype(), "activation", [&](auto tag) {
    using T = decltype(tag);
    using S = compute_type<T>;
    check_operands({&x, &y}, x.dtype(), "activation");
    const T* px = x.data<T>();
    T* py = y.data<T>();
    const std::int64_t count = x.numel();
    dispatch_activation(kind, [&](auto activation) {
      constexpr Activation K = decltype(activation)::value;
#pragma omp parallel for simd schedule(static)
      for (std::int64_t i = 0; i < count; ++i) py[i] = static_cast<T>(activate<K>(S(px[i])));
    });
  });
}

void CpuBackend::activation_backward(Activation kind, const Tensor& x, const Tensor& grad_y,
                                     const Tensor& grad_x) {
  check_same_shape(x, grad_y, "activation backward");
  check_same_shape(x, grad_x, "activation backward");
  dispatch_floating(x.dtype(), "activation backward", [&](auto tag) {
    using T = decltype(tag);
    using S = compute_type<T>;
    check_operands({&x, &grad_y, &grad_x}, x.dtype(), "activation backward");
    const T* px = x.data<T>();
    const T* pdy = grad_y.data<T>();
    T* pdx = grad_x.data<T>();
    const std::int64_t count = x.numel();
    dispatch_activation(kind, [&](auto activation) {
      constexpr Activation K = decltype(activation)::value;
#pragma omp parallel for simd schedule(static)
      for (std::int64_t i = 0; i < count; ++i)
        pdx[i] = static_cast<T>(S(pdy[i]) * activate_derivative<K>(S(px[i])));
    });
  });
}

void CpuBackend::swiglu_forward(const Tensor& gate, const Tensor& up, const Tensor& y) {
  check_same_shape(gate, up, "swiglu");
  check_same_shape(gate, y, "swiglu");
  dispatch_floating(gate.dtype(), "swiglu", [&](auto tag) {
    using T = decltype(tag);
    using S = compute_type<T>;
    check_operands({&gate, &up, &y}, gate.dtype(), "swiglu");
    const T* pg = gate.data<T>();
    const T* pu = up.data<T>();
    T* py = y.data<T>();
    const std::int64_t count = gate.numel();
#pragma omp parallel for schedule(static)
    for (std::int64_t i = 0; i < count; ++i)
      py[i] = static_cast<T>(activate<Activation::silu>(S(pg[i])) * S(pu[i]));
  });
}

void CpuBackend::swiglu_backward(const Tensor& gate, const Tensor& up, const Tensor& grad_y,
                                 const Tensor& grad_gate, const Tensor& grad_up) {
  check_same_shape(gate, up, "swiglu backward");
  check_same_shape(gate, grad_y, "swiglu backward");
  dispatch_floating(gate.dtype(), "swiglu backward", [&](auto tag) {
    using T = decltype(tag);
    using S = compute_type<T>;
    check_operands({&gate, &up, &grad_y, &grad_gate, &grad_up}, gate.dtype(), "swiglu backward");
    const T* pg = gate.data<T>();
    const T* pu = up.data<T>();
    const T* pdy = grad_y.data<T>();
    T* pdg = grad_gate.data<T>();
    T* pdu = grad_up.data<T>();
    const std::int64_t count = gate.numel();
#pragma omp parallel for schedule(static)
    for (std::int64_t i = 0; i < count; ++i) {
      const S g = S(pg[i]);
      pdg[i] = static_cast<T>(S(pdy[i]) * S(pu[i]) * activate_derivative<Activation::silu>(g));
      pdu[i] = static_cast<T>(S(pdy[i]) * activate<Activation::silu>(g));
    }
  });
}

}  // namespace primer::cpu
