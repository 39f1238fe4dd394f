#include "activation.cuh"
#include "device_support.cuh"

namespace primer::kernels {
namespace {

constexpr float kGeluAlpha = 0.7978845608028654f;  // sqrt(2 / pi)
constexpr float kGeluBeta = 0.044715f;

__device__ float sigmoid(float x) {
  return 1.0f / (1.0f + expf(-x));
}

__device__ float value(ActivationKind kind, float x) {
  switch (kind) {
    case ActivationKind::relu: return x > 0.0f ? x : 0.0f;
    case ActivationKind::squared_relu: return x > 0.0f ? x * x : 0.0f;
    case ActivationKind::gelu_tanh:
      return 0.5f * x * (1.0f + tanhf(kGeluAlpha * (x + kGeluBeta * x * x * x)));
    case ActivationKind::silu: return x * sigmoid(x);
  }
  return 0.0f;
}

__device__ float derivative(ActivationKind kind, float x) {
  switch (kind) {
    case ActivationKind::relu: return x > 0.0f ? 1.0f : 0.0f;
    case ActivationKind::squared_relu: return x > 0.0f ? 2.0f * x : 0.0f;
    case ActivationKind::gelu_tanh: {
      const float t = tanhf(kGeluAlpha * (x + kGeluBeta * x * x * x));
      return 0.5f * (1.0f + t) + 0.5f * x * (1.0f - t * t) * kGeluAlpha * (1.0f + 3.0f * kGeluBeta * x * x);
    }
    case ActivationKind::silu: {
      const float s = sigmoid(x);
      return s * (1.0f + x * (1.0f - s));
    }
  }
  return 0.0f;
}

__global__ void activation_forward_kernel(ActivationKind kind, const float* x, float* y, std::int64_t count) {
  PRIMER_GRID_STRIDE(i, count) {
    y[i] = value(kind, x[i]);
  }
}

__global__ void activation_backward_kernel(ActivationKind kind, const float* x, const float* grad_y,
                                           float* grad_x, std::int64_t count) {
  PRIMER_GRID_STRIDE(i, count) {
    grad_x[i] = grad_y[i] * derivative(kind, x[i]);
  }
}

__global__ void swiglu_forward_kernel(const float* gate, const float* up, float* y, std::int64_t count) {
  PRIMER_GRID_STRIDE(i, count) {
    y[i] = value(ActivationKind::silu, gate[i]) * up[i];
  }
}

__global__ void swiglu_backward_kernel(const float* gate, const float* up, const float* grad_y,
                                       float* grad_gate, float* grad_up, std::int64_t count) {
  PRIMER_GRID_STRIDE(i, count) {
    grad_gate[i] = grad_y[i] * up[i] * derivative(ActivationKind::silu, gate[i]);
    grad_up[i] = grad_y[i] * value(ActivationKind::silu, gate[i]);
  }
}

}  // namespace

cudaError_t activation_forward(ActivationKind kind, const float* x, float* y, std::int64_t count,
                               cudaStream_t stream) {
  activation_forward_kernel<<<blocks_for(count), kThreads, 0, stream>>>(kind, x, y, count);
  return cudaGetLastError();
}

cudaError_t activation_backward(ActivationKind kind, const float* x, const float* grad_y, float* grad_x,
                                std::int64_t count, cudaStream_t stream) {
  activation_backward_kernel<<<blocks_for(count), kThreads, 0, stream>>>(kind, x, grad_y, grad_x, count);
  return cudaGetLastError();
}

cudaError_t swiglu_forward(const float* gate, const float* up, float* y, std::int64_t count,
                           cudaStream_t stream) {
  swiglu_forward_kernel<<<blocks_for(count), kThreads, 0, stream>>>(gate, up, y, count);
  return cudaGetLastError();
}

cudaError_t swiglu_backward(const float* gate, const float* up, const float* grad_y, float* grad_gate,
                            float* grad_up, std::int64_t count, cudaStream_t stream) {
  swiglu_backward_kernel<<<blocks_for(count), kThreads, 0, stream>>>(gate, up, grad_y, grad_gate, grad_up,
                                                                     count);
  return cudaGetLastError();
}

}  // namespace primer::kernels
