#include "column_sums.cuh"
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

// Each tap's weight gradient at one position: dy[t] x[t - tap] (no term before the sequence starts).
struct TapTerms {
  const float* grad_y;
  const float* x;
  std::int64_t time;
  std::int64_t channels;
  __device__ void operator()(std::int64_t position, std::int64_t c, float* totals) const {
    const std::int64_t t = position % time;
    const float dy = grad_y[position * channels + c];
    for (int tap = 0; tap < 3; ++tap) {
      if (t >= tap) totals[tap] += dy * x[(position - tap) * channels + c];
    }
  }
};

}  // namespace

cudaError_t causal_dconv_forward(const float* x, const float* weight, std::int64_t batch, std::int64_t time,
                                 std::int64_t channels, float* y, cudaStream_t stream) {
  const std::int64_t count = batch * time * channels;
  PRIMER_LAUNCH(forward_kernel, blocks_for(count), kThreads, 0, stream, x, weight, time, channels, count, y);
  return cudaGetLastError();
}

std::int64_t causal_dconv_backward_scratch_size(std::int64_t channels) {
  return column_sums_scratch(channels, 3);
}

cudaError_t causal_dconv_backward(const float* grad_y, const float* x, const float* weight,
                                  std::int64_t batch, std::int64_t time, std::int64_t channels,
                                  float* scratch, float* grad_x, float* grad_weight, cudaStream_t stream) {
  const std::int64_t count = batch * time * channels;
  PRIMER_LAUNCH(input_kernel, blocks_for(count), kThreads, 0, stream, grad_y, weight, time, channels, count,
                grad_x);
  const cudaError_t launched = cudaGetLastError();
  if (launched != cudaSuccess) return launched;
  return column_sums<3>(TapTerms{grad_y, x, time, channels}, batch * time, channels, scratch,
                        ColumnSums<3>{{grad_weight, grad_weight + channels, grad_weight + 2 * channels}},
                        stream);
}

}  // namespace primer::kernels
