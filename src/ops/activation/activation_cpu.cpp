// Pointwise activations (ReLU, squared ReLU, tanh-GELU, SiLU) and the SwiGLU gate.
#include <Eigen/Core>

#include <algorithm>
#include <type_traits>

#include "backend/cpu/bf16_conversion.h"
#include "backend/cpu/kernel_support.h"
#include "backend/cpu/vector_math.h"
#include "ops/activation/activation_formulas.h"
#include "ops/activation/activation_kernels.h"

namespace primer::cpu {
namespace {

using ops::activate;
using ops::activate_derivative;

// SwiGLU runs through Eigen arrays and vector_math.h's sigmoid (std::exp in a loop stays scalar: the gate
// ran at about 1.4 ns an element). Elements go in chunks; bf16 operands are widened to float per chunk.
constexpr std::int64_t kChunk = 1024;

template <class S>
using Chunk = Eigen::Array<S, Eigen::Dynamic, 1, Eigen::ColMajor, kChunk, 1>;  // on the stack
template <class S>
using ChunkMap = Eigen::Map<Eigen::Array<S, Eigen::Dynamic, 1>>;

// Calls body(begin, n) for every chunk [begin, begin + n) of count elements, spread over the threads.
template <class Body>
void for_each_chunk(std::int64_t count, Body&& body) {
#pragma omp parallel for schedule(static)
  for (std::int64_t begin = 0; begin < count; begin += kChunk) body(begin, std::min(kChunk, count - begin));
}

// n elements of p as the compute type S: a view when T is S, else a widened copy in `widened`.
template <class S, class T>
ChunkMap<S> as_compute(const T* p, std::int64_t n, Chunk<S>& widened) {
  if constexpr (std::is_same_v<T, S>) {
    return ChunkMap<S>(const_cast<S*>(p), n);
  } else {
    widened.resize(n);
    for (std::int64_t i = 0; i < n; ++i) widened[i] = S(p[i]);
    return ChunkMap<S>(widened.data(), n);
  }
}

// values (an array expression in S) written to p as T: straight through when T is S.
template <class T, class Expression>
void store(const Eigen::ArrayBase<Expression>& values, T* p) {
  using S = typename Expression::Scalar;
  if constexpr (std::is_same_v<T, S>) {
    ChunkMap<S>(p, values.size()) = values;
  } else {
    const Chunk<S> evaluated = values;
    narrow_to_bf16(evaluated.data(), p, evaluated.size());
  }
}

// The logistic sigmoid of an array: activation_formulas.h's sigmoid, element by element, through
// vector_math.h.
template <class S>
Chunk<S> sigmoid_of(const ChunkMap<S>& x) {
  Chunk<S> result(x.size());
  sigmoid(x.data(), result.data(), x.size());
  return result;
}

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
      if constexpr (std::is_same_v<T, S>) {
#pragma omp parallel for simd schedule(static)
        for (std::int64_t i = 0; i < count; ++i) pdx[i] = pdy[i] * ops::derivative_from_output<K>(py[i]);
      } else {
        // bf16 (under bf16 products, the FFN's hidden activation): widened and narrowed by chunks in
        // passes of their own; converting inside the arithmetic's loop ran scalar (8.6 ms against 0.32 ms
        // over 2M elements, AMD Zen 5).
        for_each_chunk(count, [&](std::int64_t begin, std::int64_t n) {
          S values[kChunk], grad[kChunk];
          for (std::int64_t i = 0; i < n; ++i) values[i] = S(py[begin + i]);
          for (std::int64_t i = 0; i < n; ++i) grad[i] = S(pdy[begin + i]);
#pragma omp simd
          for (std::int64_t i = 0; i < n; ++i) grad[i] *= ops::derivative_from_output<K>(values[i]);
          narrow_to_bf16(grad, pdx + begin, n);
        });
      }
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
    for_each_chunk(gate.numel(), [&](std::int64_t begin, std::int64_t n) {
      Chunk<S> gate_buffer, up_buffer;
      const ChunkMap<S> g = as_compute<S>(pg + begin, n, gate_buffer),
                        u = as_compute<S>(pu + begin, n, up_buffer);
      store(g * sigmoid_of(g) * u, py + begin);
    });
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
    for_each_chunk(gate.numel(), [&](std::int64_t begin, std::int64_t n) {
      Chunk<S> gate_buffer, up_buffer, grad_buffer;
      const ChunkMap<S> g = as_compute<S>(pg + begin, n, gate_buffer),
                        u = as_compute<S>(pu + begin, n, up_buffer),
                        dy = as_compute<S>(pdy + begin, n, grad_buffer);
      const Chunk<S> sigmoid = sigmoid_of(g);
      // SiLU's derivative as activation_formulas.h writes it: s (1 + x (1 - s)).
      store(dy * u * (sigmoid * (S(1) + g * (S(1) - sigmoid))), pdg + begin);
      store(dy * (g * sigmoid), pdu + begin);
    });
  });
}

}  // namespace primer::cpu
