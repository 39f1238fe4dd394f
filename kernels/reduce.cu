#include <algorithm>

#include "column_sums.cuh"
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
  // A small array takes as many blocks as it fills (a bias of 768 floats: 3, not 256 mostly idle ones).
  const int blocks = std::min(kReduceBlocks, blocks_for(count));
  PRIMER_LAUNCH(partial_sums_kernel, blocks, kThreads, 0, stream, x, count, squares, scratch);
  PRIMER_LAUNCH(finish_sum_kernel<Out>, 1, 32, 0, stream, scratch, blocks, out);
  return cudaGetLastError();
}

struct RowTerm {
  const float* x;
  std::int64_t columns;
  __device__ void operator()(std::int64_t row, std::int64_t column, float* totals) const {
    totals[0] += x[row * columns + column];
  }
};

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

std::int64_t sum_rows_scratch_size(std::int64_t columns) {
  return column_sums_scratch(columns, 1);
}

cudaError_t sum_rows(const float* x, std::int64_t rows, std::int64_t columns, float* scratch, float* out,
                     cudaStream_t stream) {
  return column_sums<1>(RowTerm{x, columns}, rows, columns, scratch, ColumnSums<1>{{out}}, stream);
}

}  // namespace primer::kernels
