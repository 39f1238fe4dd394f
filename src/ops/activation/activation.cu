#include "device_support.cuh"
#include "ops/activation/activation.cuh"
#include "ops/activation/activation_formulas.h"

namespace primer::kernels {
namespace {

using ops::activate;
using ops::activate_derivative;

// f32 or bf16 elements, computed in f32.
__device__ inline float load(const float* p, std::int64_t i) {
  return p[i];
}
__device__ inline float load(const __nv_bfloat16* p, std::int64_t i) {
  return __bfloat162float(p[i]);
}
__device__ inline void store(float* p, std::int64_t i, float value) {
  p[i] = value;
}
__device__ inline void store(__nv_bfloat16* p, std::int64_t i, float value) {
  p[i] = __float2bfloat16_rn(value);
}

template <Activation K, class T>
__global__ void activation_forward_kernel(const T* x, T* y, std::int64_t count) {
  PRIMER_GRID_STRIDE(i, count) {
    store(y, i, activate<K>(load(x, i)));
  }
}

template <Activation K>
__global__ void activation_backward_kernel(const float* x, const float* grad_y, float* grad_x,
                                           std::int64_t count) {
  PRIMER_GRID_STRIDE(i, count) {
    grad_x[i] = grad_y[i] * activate_derivative<K>(x[i]);
  }
}

template <Activation K, class T>
__global__ void activation_backward_from_output_kernel(const T* y, const T* grad_y, T* grad_x,
                                                       std::int64_t count) {
  PRIMER_GRID_STRIDE(i, count) {
    store(grad_x, i, load(grad_y, i) * ops::derivative_from_output<K>(load(y, i)));
  }
}

// Calls body(T{}) with T the element type, float or __nv_bfloat16; false for another type.
template <class Body>
bool dispatch_f32_or_bf16(ElementType type, Body&& body) {
  switch (type) {
    case ElementType::f32: body(float{}); return true;
    case ElementType::bf16: body(__nv_bfloat16{}); return true;
    default: return false;
  }
}

template <class T>
__global__ void swiglu_forward_kernel(const T* gate, const T* up, T* y, std::int64_t count) {
  PRIMER_GRID_STRIDE(i, count) {
    store(y, i, activate<Activation::silu>(load(gate, i)) * load(up, i));
  }
}

template <class T>
__global__ void swiglu_backward_kernel(const T* gate, const T* up, const T* grad_y, T* grad_gate, T* grad_up,
                                       std::int64_t count) {
  PRIMER_GRID_STRIDE(i, count) {
    const float g = load(gate, i);
    const float dy = load(grad_y, i);
    store(grad_gate, i, dy * load(up, i) * activate_derivative<Activation::silu>(g));
    store(grad_up, i, dy * activate<Activation::silu>(g));
  }
}

}  // namespace

cudaError_t activation_forward(Activation kind, const float* x, float* y, std::int64_t count,
                               cudaStream_t stream) {
  const bool known = ops::dispatch_activation(kind, [&](auto activation) {
    PRIMER_LAUNCH((activation_forward_kernel<decltype(activation)::value, float>), blocks_for(count),
                  kThreads, 0, stream, x, y, count);
  });
  return known ? cudaGetLastError() : cudaErrorInvalidValue;
}

cudaError_t activation_in_place(Activation kind, ElementType type, void* values, std::int64_t count,
                                cudaStream_t stream) {
  bool known = false;
  const bool typed = dispatch_f32_or_bf16(type, [&](auto element) {
    using T = decltype(element);
    known = ops::dispatch_activation(kind, [&](auto activation) {
      T* typed_values = static_cast<T*>(values);
      PRIMER_LAUNCH((activation_forward_kernel<decltype(activation)::value, T>), blocks_for(count), kThreads,
                    0, stream, typed_values, typed_values, count);
    });
  });
  return typed && known ? cudaGetLastError() : cudaErrorInvalidValue;
}

cudaError_t activation_backward(Activation kind, const float* x, const float* grad_y, float* grad_x,
                                std::int64_t count, cudaStream_t stream) {
  const bool known = ops::dispatch_activation(kind, [&](auto activation) {
    PRIMER_LAUNCH(activation_backward_kernel<decltype(activation)::value>, blocks_for(count), kThreads, 0,
                  stream, x, grad_y, grad_x, count);
  });
  return known ? cudaGetLastError() : cudaErrorInvalidValue;
}

cudaError_t activation_backward_from_output(Activation kind, ElementType type, const void* y,
                                            const void* grad_y, void* grad_x, std::int64_t count,
                                            cudaStream_t stream) {
  bool known = false;
  const bool typed = dispatch_f32_or_bf16(type, [&](auto element) {
    using T = decltype(element);
    known = ops::dispatch_output_derivative(kind, [&](auto activation) {
      PRIMER_LAUNCH((activation_backward_from_output_kernel<decltype(activation)::value, T>),
                    blocks_for(count), kThreads, 0, stream, static_cast<const T*>(y),
                    static_cast<const T*>(grad_y), static_cast<T*>(grad_x), count);
    });
  });
  return typed && known ? cudaGetLastError() : cudaErrorInvalidValue;
}

cudaError_t swiglu_forward(ElementType type, const void* gate, const void* up, void* y, std::int64_t count,
                           cudaStream_t stream) {
  const bool typed = dispatch_f32_or_bf16(type, [&](auto element) {
    using T = decltype(element);
    PRIMER_LAUNCH(swiglu_forward_kernel<T>, blocks_for(count), kThreads, 0, stream,
                  static_cast<const T*>(gate), static_cast<const T*>(up), static_cast<T*>(y), count);
  });
  return typed ? cudaGetLastError() : cudaErrorInvalidValue;
}

cudaError_t swiglu_backward(ElementType type, const void* gate, const void* up, const void* grad_y,
                            void* grad_gate, void* grad_up, std::int64_t count, cudaStream_t stream) {
  const bool typed = dispatch_f32_or_bf16(type, [&](auto element) {
    using T = decltype(element);
    PRIMER_LAUNCH(swiglu_backward_kernel<T>, blocks_for(count), kThreads, 0, stream,
                  static_cast<const T*>(gate), static_cast<const T*>(up), static_cast<const T*>(grad_y),
                  static_cast<T*>(grad_gate), static_cast<T*>(grad_up), count);
  });
  return typed ? cudaGetLastError() : cudaErrorInvalidValue;
}

}  // namespace primer::kernels
