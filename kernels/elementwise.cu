#include "device_support.cuh"
#include "elementwise.cuh"

namespace primer::kernels {
namespace {

__global__ void add_scaled_kernel(const float* a, float alpha, const float* b, float beta, float* out,
                                  std::int64_t count) {
  PRIMER_GRID_STRIDE(i, count) {
    out[i] = alpha * a[i] + beta * b[i];
  }
}

__global__ void scale_kernel(const float* x, float factor, float* out, std::int64_t count) {
  PRIMER_GRID_STRIDE(i, count) {
    out[i] = factor * x[i];
  }
}

__global__ void scale_by_kernel(const float* x, const float* factor, float* out, std::int64_t count) {
  const float f = *factor;
  PRIMER_GRID_STRIDE(i, count) {
    out[i] = f * x[i];
  }
}

__global__ void multiply_kernel(const float* a, const float* b, float* out, std::int64_t count) {
  PRIMER_GRID_STRIDE(i, count) {
    out[i] = a[i] * b[i];
  }
}

}  // namespace

cudaError_t add_scaled(const float* a, float alpha, const float* b, float beta, float* out,
                       std::int64_t count, cudaStream_t stream) {
  PRIMER_LAUNCH(add_scaled_kernel, blocks_for(count), kThreads, 0, stream, a, alpha, b, beta, out, count);
  return cudaGetLastError();
}

cudaError_t scale(const float* x, float factor, float* out, std::int64_t count, cudaStream_t stream) {
  PRIMER_LAUNCH(scale_kernel, blocks_for(count), kThreads, 0, stream, x, factor, out, count);
  return cudaGetLastError();
}

cudaError_t scale_by(const float* x, const float* factor, float* out, std::int64_t count,
                     cudaStream_t stream) {
  PRIMER_LAUNCH(scale_by_kernel, blocks_for(count), kThreads, 0, stream, x, factor, out, count);
  return cudaGetLastError();
}

cudaError_t multiply(const float* a, const float* b, float* out, std::int64_t count, cudaStream_t stream) {
  PRIMER_LAUNCH(multiply_kernel, blocks_for(count), kThreads, 0, stream, a, b, out, count);
  return cudaGetLastError();
}

}  // namespace primer::kernels
