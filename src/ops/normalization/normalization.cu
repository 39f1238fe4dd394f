#include "column_sums.cuh"
#include "device_support.cuh"
#include "ops/normalization/normalization.cuh"

namespace primer::kernels {
namespace {

// One block per row.
__global__ void norm_forward_kernel(const float* x, const float* gamma, const float* beta, float eps,
                                    std::int64_t width, float* y, float* mean, float* rstd) {
  const float* row = x + blockIdx.x * width;
  float mu = 0.0f;
  if (mean != nullptr) {
    float total = 0.0f;
    for (std::int64_t c = threadIdx.x; c < width; c += blockDim.x) total += row[c];
    mu = block_sum(total) / static_cast<float>(width);
  }
  float squares = 0.0f;
  for (std::int64_t c = threadIdx.x; c < width; c += blockDim.x) squares += (row[c] - mu) * (row[c] - mu);
  const float inverse = rsqrtf(block_sum(squares) / static_cast<float>(width) + eps);
  for (std::int64_t c = threadIdx.x; c < width; c += blockDim.x) {
    const float normalized = (row[c] - mu) * inverse * gamma[c];
    y[blockIdx.x * width + c] = beta != nullptr ? normalized + beta[c] : normalized;
  }
  if (threadIdx.x == 0) {
    if (mean != nullptr) mean[blockIdx.x] = mu;
    rstd[blockIdx.x] = inverse;
  }
}

// dx = rstd (g - mean(g) - xhat mean(g xhat)) with g = dy gamma; RMSNorm drops the mean(g) term.
__global__ void norm_backward_input_kernel(const float* grad_y, const float* x, const float* gamma,
                                           const float* mean, const float* rstd, std::int64_t width,
                                           float* grad_x) {
  const std::int64_t offset = blockIdx.x * width;
  const float mu = mean != nullptr ? mean[blockIdx.x] : 0.0f, inverse = rstd[blockIdx.x];
  float g_total = 0.0f, gx_total = 0.0f;
  for (std::int64_t c = threadIdx.x; c < width; c += blockDim.x) {
    const float g = grad_y[offset + c] * gamma[c];
    g_total += g;
    gx_total += g * (x[offset + c] - mu) * inverse;
  }
  const float g_mean = mean != nullptr ? block_sum(g_total) / static_cast<float>(width) : 0.0f;
  const float gx_mean = block_sum(gx_total) / static_cast<float>(width);
  for (std::int64_t c = threadIdx.x; c < width; c += blockDim.x) {
    const float g = grad_y[offset + c] * gamma[c];
    const float normalized = (x[offset + c] - mu) * inverse;
    grad_x[offset + c] = inverse * (g - g_mean - normalized * gx_mean);
  }
}

// The parameters' terms at one element: dy xhat for gamma, dy for beta.
struct ParameterTerms {
  const float* grad_y;
  const float* x;
  const float* mean;
  const float* rstd;
  std::int64_t width;
  __device__ void operator()(std::int64_t row, std::int64_t column, float* totals) const {
    const float dy = grad_y[row * width + column];
    totals[0] += dy * (x[row * width + column] - (mean != nullptr ? mean[row] : 0.0f)) * rstd[row];
    totals[1] += dy;
  }
};

}  // namespace

cudaError_t norm_forward(const float* x, const float* gamma, const float* beta, float eps, std::int64_t rows,
                         std::int64_t width, float* y, float* mean, float* rstd, cudaStream_t stream) {
  if (rows == 0) return cudaSuccess;
  PRIMER_LAUNCH(norm_forward_kernel, static_cast<unsigned>(rows), kThreads, 0, stream, x, gamma, beta, eps,
                width, y, mean, rstd);
  return cudaGetLastError();
}

std::int64_t norm_backward_scratch_size(std::int64_t width) {
  return column_sums_scratch(width, 2);
}

cudaError_t norm_backward(const float* grad_y, const float* x, const float* gamma, const float* mean,
                          const float* rstd, std::int64_t rows, std::int64_t width, float* scratch,
                          float* grad_x, float* grad_gamma, float* grad_beta, cudaStream_t stream) {
  if (rows == 0) return cudaSuccess;
  PRIMER_LAUNCH(norm_backward_input_kernel, static_cast<unsigned>(rows), kThreads, 0, stream, grad_y, x,
                gamma, mean, rstd, width, grad_x);
  const cudaError_t launched = cudaGetLastError();
  if (launched != cudaSuccess) return launched;
  return column_sums<2>(ParameterTerms{grad_y, x, mean, rstd, width}, rows, width, scratch,
                        ColumnSums<2>{{grad_gamma, grad_beta}}, stream);
}

}  // namespace primer::kernels
