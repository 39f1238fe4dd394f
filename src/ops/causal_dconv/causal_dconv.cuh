#pragma once
// MDHA's causal width-3 depthwise convolution over [batch, time, channels]:
// y[b,t,c] = w[0,c] x[b,t,c] + w[1,c] x[b,t-1,c] + w[2,c] x[b,t-2,c], zeros before t = 0.
#include "common.cuh"

namespace primer::kernels {

cudaError_t causal_dconv_forward(const float* x, const float* weight, std::int64_t batch, std::int64_t time,
                                 std::int64_t channels, float* y, cudaStream_t stream);
// scratch: causal_dconv_backward_scratch_size(channels) floats, for the taps' column sums.
std::int64_t causal_dconv_backward_scratch_size(std::int64_t channels);
cudaError_t causal_dconv_backward(const float* grad_y, const float* x, const float* weight,
                                  std::int64_t batch, std::int64_t time, std::int64_t channels,
                                  float* scratch, float* grad_x, float* grad_weight, cudaStream_t stream);

}  // namespace primer::kernels
