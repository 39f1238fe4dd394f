#include "device_support.cuh"
#include "reduce.cuh"

namespace primer::kernels {
namespace {

constexpr int kReduceBlocks = 256;

__global__ void partial_sums_kernel(const float* x, std::int64_t count, bool squares, double* partials) {
  __shared__ double shared[kThreads];
  double total = 0.0;
  PRIMER_GRID_STRIDE(i, count) {
    const double value = x[i];
    total += squares ? value * value : value;
  }
  shared[threadIdx.x] = total;
  __syncthreads();
  for (int stride = blockDim.x / 2; stride > 0; stride /= 2) {
    if (static_cast<int>(threadIdx.x) < stride) shared[threadIdx.x] += shared[threadIdx.x + stride];
    __syncthreads();
  }
  if (threadIdx.x == 0) partials[blockIdx.x] = shared[0];
}

template <class Out>
__global__ void finish_sum_kernel(const double* partials, int count, Out* out) {
  if (threadIdx.x == 0 && blockIdx.x == 0) {
    double total = 0.0;
    for (int i = 0; i < count; ++i) total += partials[i];
    *out = static_cast<Out>(total);
  }
}

template <class Out>
cudaError_t sum_into(const float* x, std::int64_t count, bool squares, double* scratch, Out* out,
                     cudaStream_t stream) {
  partial_sums_kernel<<<kReduceBlocks, kThreads, 0, stream>>>(x, count, squares, scratch);
  finish_sum_kernel<<<1, 32, 0, stream>>>(scratch, kReduceBlocks, out);
  return cudaGetLastError();
}

// One thread per column, rows in order: coalesced and deterministic.
__global__ void sum_rows_kernel(const float* x, std::int64_t rows, std::int64_t columns, float* out) {
  PRIMER_GRID_STRIDE(c, columns) {
    double total = 0.0;
    for (std::int64_t r = 0; r < rows; ++r) total += x[r * columns + c];
    out[c] = static_cast<float>(total);
  }
}

}  // namespace

std::int64_t reduce_scratch_size() {
  return kReduceBlocks;
}

cudaError_t sum(const float* x, std::int64_t count, bool squares, double* scratch, float* out,
                cudaStream_t stream) {
  return sum_into(x, count, squares, scratch, out, stream);
}

cudaError_t sum(const float* x, std::int64_t count, bool squares, double* scratch, double* out,
                cudaStream_t stream) {
  return sum_into(x, count, squares, scratch, out, stream);
}

cudaError_t sum_rows(const float* x, std::int64_t rows, std::int64_t columns, float* out,
                     cudaStream_t stream) {
  sum_rows_kernel<<<blocks_for(columns), kThreads, 0, stream>>>(x, rows, columns, out);
  return cudaGetLastError();
}

}  // namespace primer::kernels
