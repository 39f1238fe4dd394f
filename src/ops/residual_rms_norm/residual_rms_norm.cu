#include "device_support.cuh"
#include "ops/residual_rms_norm/residual_rms_norm.cuh"

namespace primer::kernels {
namespace {

// One block per row: each thread adds its columns and keeps their squares, the block sums them, then the
// same threads normalise the sums they wrote.
__global__ void residual_rms_norm_kernel(const float* x, const float* residual, const float* gamma, float eps,
                                         std::int64_t width, float* sum, float* y, float* rstd) {
  const std::int64_t offset = blockIdx.x * width;
  float squares = 0.0f;
  for (std::int64_t c = threadIdx.x; c < width; c += blockDim.x) {
    const float total = x[offset + c] + residual[offset + c];
    sum[offset + c] = total;
    squares += total * total;
  }
  const float inverse = rsqrtf(block_sum(squares) / static_cast<float>(width) + eps);
  for (std::int64_t c = threadIdx.x; c < width; c += blockDim.x) {
    y[offset + c] = sum[offset + c] * inverse * gamma[c];
  }
  if (threadIdx.x == 0) rstd[blockIdx.x] = inverse;
}

}  // namespace

cudaError_t residual_rms_norm_forward(const float* x, const float* residual, const float* gamma, float eps,
                                      std::int64_t rows, std::int64_t width, float* sum, float* y,
                                      float* rstd, cudaStream_t stream) {
  if (rows == 0) return cudaSuccess;
  PRIMER_LAUNCH(residual_rms_norm_kernel, static_cast<unsigned>(rows), kThreads, 0, stream, x, residual,
                gamma, eps, width, sum, y, rstd);
  return cudaGetLastError();
}

}  // namespace primer::kernels
