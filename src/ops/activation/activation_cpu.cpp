// Pointwise activations (ReLU, squared ReLU, tanh-GELU, SiLU) and the SwiGLU gate.
#include <algorithm>
#include <array>
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

// SwiGLU goes by chunks of elements, over the threads, with vector_math.h's sigmoid (std::exp in a loop
// stays scalar: the gate ran at about 1.4 ns an element) and plain loops the compiler vectorises (Eigen
// arrays, before, made the f32 backward a third slower). bf16 operands are widened into float buffers per
// chunk and the results narrowed from them, each in a pass of its own: converting inside the arithmetic's
// loop runs scalar.
constexpr std::int64_t kChunk = 1024;

// Calls body(begin, n) for every chunk [begin, begin + n) of count elements, spread over the threads.
template <class Body>
void for_each_chunk(std::int64_t count, Body&& body) {
#pragma omp parallel for schedule(static)
  for (std::int64_t begin = 0; begin < count; begin += kChunk) body(begin, std::min(kChunk, count - begin));
}

// n (at least 1) elements of each source as the compute type S: the sources themselves when T is S, else
// widened into the buffers, all in one loop (a pass per source made SwiGLU's bf16 backward 10% slower).
template <class S, class T, std::size_t N>
std::array<const S*, N> widened(const std::array<const T*, N>& sources, std::int64_t n,
                                const std::array<S*, N>& buffers) {
  if constexpr (std::is_same_v<T, S>) {
    return sources;
  } else {
    // Tells the compiler that the buffers are written before they are read (-Wmaybe-uninitialized).
    if (n < 1) __builtin_unreachable();
#pragma omp simd
    for (std::int64_t i = 0; i < n; ++i) {
      for (std::size_t k = 0; k < N; ++k) buffers[k][i] = S(sources[k][i]);
    }
    std::array<const S*, N> views;
    std::copy(buffers.begin(), buffers.end(), views.begin());
    return views;
  }
}

// Where n results bound for p are computed: p itself when T is S, else buffer, which narrowed() writes to p.
template <class S, class T>
S* result_slot(T* p, S* buffer) {
  if constexpr (std::is_same_v<T, S>) {
    return p;
  } else {
    return buffer;
  }
}

// Writes what result_slot's buffer holds to p when T is not S (when it is, the results are there already).
template <class S, class T>
void narrowed(const S* computed, T* p, std::int64_t n) {
  if constexpr (!std::is_same_v<T, S>) narrow_to_bf16(computed, p, n);
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
      // bf16 (under bf16 products, the FFN's hidden activation) goes through widened() and narrowed():
      // converting inside the arithmetic's loop ran scalar (8.6 ms against 0.32 ms over 2M elements, AMD
      // Zen 5).
      for_each_chunk(count, [&](std::int64_t begin, std::int64_t n) {
        alignas(64) S values_buffer[kChunk], grad_buffer[kChunk], result_buffer[kChunk];
        const auto [values, grad] =
            widened<S, T, 2>({py + begin, pdy + begin}, n, {values_buffer, grad_buffer});
        S* out = result_slot(pdx + begin, result_buffer);
#pragma omp simd
        for (std::int64_t i = 0; i < n; ++i) out[i] = grad[i] * ops::derivative_from_output<K>(values[i]);
        narrowed(out, pdx + begin, n);
      });
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
      alignas(64) S gate_buffer[kChunk], up_buffer[kChunk], sigmoid_of_gate[kChunk], y_buffer[kChunk];
      const auto [g, u] = widened<S, T, 2>({pg + begin, pu + begin}, n, {gate_buffer, up_buffer});
      S* out = result_slot(py + begin, y_buffer);
      sigmoid(g, sigmoid_of_gate, n);
#pragma omp simd
      for (std::int64_t i = 0; i < n; ++i) out[i] = g[i] * sigmoid_of_gate[i] * u[i];
      narrowed(out, py + begin, n);
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
      alignas(64) S gate_buffer[kChunk], up_buffer[kChunk], grad_buffer[kChunk], sigmoid_of_gate[kChunk],
          grad_gate_buffer[kChunk], grad_up_buffer[kChunk];
      const auto [g, u, dy] =
          widened<S, T, 3>({pg + begin, pu + begin, pdy + begin}, n, {gate_buffer, up_buffer, grad_buffer});
      S* dg = result_slot(pdg + begin, grad_gate_buffer);
      S* du = result_slot(pdu + begin, grad_up_buffer);
      sigmoid(g, sigmoid_of_gate, n);
#pragma omp simd
      for (std::int64_t i = 0; i < n; ++i) {
        const S s = sigmoid_of_gate[i];
        // SiLU's derivative as activation_formulas.h writes it: s (1 + x (1 - s)).
        dg[i] = dy[i] * u[i] * (s * (S(1) + g[i] * (S(1) - s)));
        du[i] = dy[i] * (g[i] * s);
      }
      narrowed(dg, pdg + begin, n);
      narrowed(du, pdu + begin, n);
    });
  });
}

}  // namespace primer::cpu
