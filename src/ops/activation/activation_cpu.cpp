// Pointwise activations (ReLU, squared ReLU, tanh-GELU, SiLU) and the SwiGLU gate.
#include "backend/cpu/kernel_support.h"
#include "ops/activation/activation_formulas.h"
#include "ops/activation/activation_kernels.h"

namespace primer::cpu {
namespace {

using ops::activate;
using ops::activate_derivative;

// Runs body with the kind as a compile-time constant.
template <class Body>
void with_activation(Activation kind, Body&& body) {
  PRIMER_CHECK(ops::dispatch_activation(kind, body), "activation: unknown kind {}", static_cast<int>(kind));
}

}  // namespace

void activation_forward(Activation kind, const Tensor& x, const Tensor& y) {
  dispatch_floating(x.dtype(), "activation", [&](auto tag) {
    using T = decltype(tag);
    using S = compute_type<T>;
    check_operands({&x, &y}, x.dtype(), "activation");
    const T* px = x.data<T>();
    T* py = y.data<T>();
    const std::int64_t count = x.numel();
    with_activation(kind, [&](auto activation) {
      constexpr Activation K = decltype(activation)::value;
#pragma omp parallel for simd schedule(static)
      for (std::int64_t i = 0; i < count; ++i) py[i] = static_cast<T>(activate<K>(S(px[i])));
    });
  });
}

void activation_backward(Activation kind, const Tensor& x, const Tensor& grad_y, const Tensor& grad_x) {
  dispatch_floating(x.dtype(), "activation backward", [&](auto tag) {
    using T = decltype(tag);
    using S = compute_type<T>;
    check_operands({&x, &grad_y, &grad_x}, x.dtype(), "activation backward");
    const T* px = x.data<T>();
    const T* pdy = grad_y.data<T>();
    T* pdx = grad_x.data<T>();
    const std::int64_t count = x.numel();
    with_activation(kind, [&](auto activation) {
      constexpr Activation K = decltype(activation)::value;
#pragma omp parallel for simd schedule(static)
      for (std::int64_t i = 0; i < count; ++i)
        pdx[i] = static_cast<T>(S(pdy[i]) * activate_derivative<K>(S(px[i])));
    });
  });
}

void activation_backward_from_output(Activation kind, const Tensor& y, const Tensor& grad_y,
                                     const Tensor& grad_x) {
  dispatch_floating(y.dtype(), "activation backward", [&](auto tag) {
    using T = decltype(tag);
    using S = compute_type<T>;
    check_operands({&y, &grad_y, &grad_x}, y.dtype(), "activation backward");
    const T* py = y.data<T>();
    const T* pdy = grad_y.data<T>();
    T* pdx = grad_x.data<T>();
    const std::int64_t count = y.numel();
    const bool known = ops::dispatch_output_derivative(kind, [&](auto activation) {
      constexpr Activation K = decltype(activation)::value;
#pragma omp parallel for simd schedule(static)
      for (std::int64_t i = 0; i < count; ++i)
        pdx[i] = static_cast<T>(S(pdy[i]) * ops::derivative_from_output<K>(S(py[i])));
    });
    PRIMER_CHECK(known, "activation backward: the output does not determine activation {}'s derivative",
                 static_cast<int>(kind));
  });
}

void swiglu_forward(const Tensor& gate, const Tensor& up, const Tensor& y) {
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

void swiglu_backward(const Tensor& gate, const Tensor& up, const Tensor& grad_y, const Tensor& grad_gate,
                     const Tensor& grad_up) {
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
