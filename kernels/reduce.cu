#include <algorithm>

#include "column_sums.cuh"
#include "device_support.cuh"
#include "reduce.cuh"

namespace primer::kernels {
namespace {

constexpr int kReduceBlocks = 256;

static_assert(sizeof(SquaresList) + 2 * sizeof(void*) <= 4096,
              "a kernel's parameters take 4 KB on every CUDA device");

// The block's values added in a fixed order (blockDim.x == kThreads); thread 0 gets the total.
__device__ double block_sum_in_order(double value) {
  __shared__ double shared[kThreads];
  shared[threadIdx.x] = value;
  __syncthreads();
  for (int stride = blockDim.x / 2; stride > 0; stride /= 2) {
    if (static_cast<int>(threadIdx.x) < stride) shared[threadIdx.x] += shared[threadIdx.x + stride];
    __syncthreads();
  }
  return shared[0];
}

__global__ void partial_sums_kernel(const float* x, std::int64_t count, bool squares, double* partials) {
  double total = 0.0;
  PRIMER_GRID_STRIDE(i, count) {
    const double value = x[i];
    total += squares ? value * value : value;
  }
  total = block_sum_in_order(total);
  if (threadIdx.x == 0) partials[blockIdx.x] = total;
}

__global__ void partial_squares_kernel(SquaresList list, double* partials) {
  const int block = static_cast<int>(blockIdx.x);
  const int t = list.spans.tensor_of(block);
  const float* x = list.x[t];
  double total = 0.0;
  const std::int64_t end = list.spans.end(block, t);
  for (std::int64_t i = list.spans.begin(block, t) + threadIdx.x; i < end; i += blockDim.x) {
    const double value = x[i];
    total += value * value;
  }
  total = block_sum_in_order(total);
  if (threadIdx.x == 0) partials[block] = total;
}

// Block t adds up tensor t's partials.
__global__ void finish_squares_kernel(SquaresList list, const double* partials, float* out) {
  const int t = static_cast<int>(blockIdx.x);
  double total = 0.0;
  for (int b = list.spans.first_block[t] + static_cast<int>(threadIdx.x); b < list.spans.first_block[t + 1];
       b += blockDim.x) {
    total += partials[b];
  }
  total = block_sum_in_order(total);
  if (threadIdx.x == 0) out[t] = static_cast<float>(total);
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

cudaError_t sum_squares_each(const SquaresList& list, double* scratch, float* out, cudaStream_t stream) {
  if (list.spans.size == 0) return cudaGetLastError();
  if (list.spans.blocks() > 0) {
    PRIMER_LAUNCH(partial_squares_kernel, list.spans.blocks(), kThreads, 0, stream, list, scratch);
  }
  PRIMER_LAUNCH(finish_squares_kernel, list.spans.size, kThreads, 0, stream, list, scratch, out);
  return cudaGetLastError();
}

std::int64_t sum_rows_scratch_size(std::int64_t columns) {
  return column_sums_scratch(columns, 1);
}

cudaError_t sum_rows(const float* x, std::int64_t rows, std::int64_t columns, float* scratch, float* out,
                     cudaStream_t stream) {
  return column_sums<1>(RowTerm{x, columns}, rows, columns, scratch, ColumnSums<1>{{out}}, stream);
}

}  // namespace primer::kernels
