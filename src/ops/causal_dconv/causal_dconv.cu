#include "device_support.cuh"
#include "ops/causal_dconv/causal_dconv.cuh"

namespace primer::kernels {
namespace {

__global__ void forward_kernel(const float* x, const float* weight, std::int64_t time, std::int64_t channels,
                               std::int64_t count, float* y) {
  PRIMER_GRID_STRIDE(i, count) {
    const std::int64_t c = i % channels, t = (i / channels) % time;
    float total = weight[c] * x[i];
    if (t >= 1) total += weight[channels + c] * x[i - channels];
    if (t >= 2) total += weight[2 * channels + c] * x[i - 2 * channels];
    y[i] = total;
  }
}

// grad_x[t] gathers the taps that read x[t]: w[0] dy[t] + w[1] dy[t+1] + w[2] dy[t+2].
__global__ void input_kernel(const float* grad_y, const float* weight, std::int64_t time,
                             std::int64_t channels, std::int64_t count, float* grad_x) {
  PRIMER_GRID_STRIDE(i, count) {
    const std::int64_t c = i % channels, t = (i / channels) % time;
    float total = weight[c] * grad_y[i];
    if (t + 1 < time) total += weight[channels + c] * grad_y[i + channels];
    if (t + 2 < time) total += weight[2 * channels + c] * grad_y[i + 2 * channels];
    grad_x[i] = total;
  }
}

// One thread per (tap, channel), positions in order: deterministic.
__global__ void weight_kernel(const float* grad_y, const float* x, std::int64_t batch, std::int64_t time,
                              std::int64_t channels, float* grad_weight) {
  PRIMER_GRID_STRIDE(i, 3 * channels) {
    const std::int64_t tap = i / channels, c = i % channels;
    float total = 0.0f;
    for (std::int64_t b = 0; b < batch; ++b) {
      for (std::int64_t t = tap; t < time; ++t) {
        total += grad_y[(b * time + t) * channels + c] * x[(b * time + t - tap) * channels + c];
      }
    }
    grad_weight[i] = total;
  }
}

}  // namespace

cudaError_t causal_dconv_forward(const float* x, const float* weight, std::int64_t batch, std::int64_t time,
                                 std::int64_t channels, float* y, cudaStream_t stream) {
  const std::int64_t count = batch * time * channels;
  forward_kernel<<<blocks_for(count), kThreads, 0, stream>>>(x, weight, time, channels, count, y);
  return cudaGetLastError();
}

cudaError_t causal_dconv_backward(const float* grad_y, const float* x, const float* weight,
                                  std::int64_t batch, std::int64_t time, std::int64_t channels, float* grad_x,
                                  float* grad_weight, cudaStream_t stream) {
  const std::int64_t count = batch * time * channels;
  input_kernel<<<blocks_for(count), kThreads, 0, stream>>>(grad_y, weight, time, channels, count, grad_x);
  weight_kernel<<<blocks_for(3 * channels), kThreads, 0, stream>>>(grad_y, x, batch, time, channels,
                                                                   grad_weight);
  return cudaGetLastError();
}

}  // namespace primer::kernels
