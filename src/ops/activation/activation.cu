#include "device_support.cuh"
#include "ops/activation/activation.cuh"
#include "ops/activation/activation_formulas.h"

namespace primer::kernels {
namespace {

using ops::activate;
using ops::activate_derivative;

template <Activation K>
__global__ void activation_forward_kernel(const float* x, float* y, std::int64_t count) {
  PRIMER_GRID_STRIDE(i, count) {
    y[i] = activate<K>(x[i]);
  }
}

template <Activation K>
__global__ void activation_backward_kernel(const float* x, const float* grad_y, float* grad_x,
                                           std::int64_t count) {
  PRIMER_GRID_STRIDE(i, count) {
    grad_x[i] = grad_y[i] * activate_derivative<K>(x[i]);
  }
}

template <Activation K>
__global__ void activation_backward_from_output_kernel(const float* y, const float* grad_y, float* grad_x,
                                                       std::int64_t count) {
  PRIMER_GRID_STRIDE(i, count) {
    grad_x[i] = grad_y[i] * ops::derivative_from_output<K>(y[i]);
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
    PRIMER_LAUNCH(activation_forward_kernel<decltype(activation)::value>, blocks_for(count), kThreads, 0,
                  stream, x, y, count);
  });
  return known ? cudaGetLastError() : cudaErrorInvalidValue;
}

cudaError_t activation_backward(Activation kind, const float* x, const float* grad_y, float* grad_x,
                                std::int64_t count, cudaStream_t stream) {
  const bool known = ops::dispatch_activation(kind, [&](auto activation) {
    PRIMER_LAUNCH(activation_backward_kernel<decltype(activation)::value>, blocks_for(count), kThreads, 0,
                  stream, x, grad_y, grad_x, count);
  });
  return known ? cudaGetLastError() : cudaErrorInvalidValue;
}

cudaError_t activation_backward_from_output(Activation kind, const float* y, const float* grad_y,
                                            float* grad_x, std::int64_t count, cudaStream_t stream) {
  const bool known = ops::dispatch_output_derivative(kind, [&](auto activation) {
    PRIMER_LAUNCH(activation_backward_from_output_kernel<decltype(activation)::value>, blocks_for(count),
                  kThreads, 0, stream, y, grad_y, grad_x, count);
  });
  return known ? cudaGetLastError() : cudaErrorInvalidValue;
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
