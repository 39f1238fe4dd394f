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

__global__ void swiglu_forward_kernel(const float* gate, const float* up, float* y, std::int64_t count) {
  PRIMER_GRID_STRIDE(i, count) {
    y[i] = activate<Activation::silu>(gate[i]) * up[i];
  }
}

__global__ void swiglu_backward_kernel(const float* gate, const float* up, const float* grad_y,
                                       float* grad_gate, float* grad_up, std::int64_t count) {
  PRIMER_GRID_STRIDE(i, count) {
    grad_gate[i] = grad_y[i] * up[i] * activate_derivative<Activation::silu>(gate[i]);
    grad_up[i] = grad_y[i] * activate<Activation::silu>(gate[i]);
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

cudaError_t swiglu_forward(const float* gate, const float* up, float* y, std::int64_t count,
                           cudaStream_t stream) {
  PRIMER_LAUNCH(swiglu_forward_kernel, blocks_for(count), kThreads, 0, stream, gate, up, y, count);
  return cudaGetLastError();
}

cudaError_t swiglu_backward(const float* gate, const float* up, const float* grad_y, float* grad_gate,
                            float* grad_up, std::int64_t count, cudaStream_t stream) {
  PRIMER_LAUNCH(swiglu_backward_kernel, blocks_for(count), kThreads, 0, stream, gate, up, grad_y, grad_gate,
                grad_up, count);
  return cudaGetLastError();
}

}  // namespace primer::kernels
