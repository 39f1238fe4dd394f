#pragma once
// Column sums of per-element terms over [rows, columns], spread over the whole GPU in a fixed order: a
// first pass sums chunks of rows (a thread per column, reads coalesced along each row) into partials, a
// second adds each column's chunks in order. Deterministic, unlike atomics; a thread per column walking
// every row instead leaves most SMs idle (three blocks for 768 columns) for 16k rows. For .cu files only;
// launchers size the scratch with column_sums_scratch().
#include "device_support.cuh"

namespace primer::kernels {

constexpr int kColumnChunks = 64;

// The floats of scratch `sums` column sums over `columns` columns need.
constexpr std::int64_t column_sums_scratch(std::int64_t columns, int sums) {
  return static_cast<std::int64_t>(kColumnChunks) * columns * sums;
}

// Where each of kSums sums goes ([columns] each); a null destination is skipped.
template <int kSums>
struct ColumnSums {
  float* out[kSums];
};

// terms(row, column, totals) adds that element's term of each sum into totals[0, kSums).
template <int kSums, class Terms>
__global__ void column_partials_kernel(Terms terms, std::int64_t rows, std::int64_t columns,
                                       std::int64_t chunk_rows, float* partials) {
  const std::int64_t column = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (column >= columns) return;
  const std::int64_t first = blockIdx.y * chunk_rows;
  const std::int64_t last = first + chunk_rows < rows ? first + chunk_rows : rows;
  float totals[kSums] = {};
  for (std::int64_t row = first; row < last; ++row) terms(row, column, totals);
  for (int s = 0; s < kSums; ++s) partials[(s * kColumnChunks + blockIdx.y) * columns + column] = totals[s];
}

template <int kSums>
__global__ void column_finish_kernel(const float* partials, std::int64_t columns, ColumnSums<kSums> sums) {
  PRIMER_GRID_STRIDE(column, columns) {
    for (int s = 0; s < kSums; ++s) {
      if (sums.out[s] == nullptr) continue;
      float total = 0.0f;
      for (int chunk = 0; chunk < kColumnChunks; ++chunk) {
        total += partials[(s * kColumnChunks + chunk) * columns + column];
      }
      sums.out[s][column] = total;
    }
  }
}

// scratch: column_sums_scratch(columns, kSums) floats.
template <int kSums, class Terms>
cudaError_t column_sums(Terms terms, std::int64_t rows, std::int64_t columns, float* scratch,
                        ColumnSums<kSums> sums, cudaStream_t stream) {
  if (columns == 0) return cudaSuccess;
  const std::int64_t chunk_rows = (rows + kColumnChunks - 1) / kColumnChunks;
  const dim3 grid(static_cast<unsigned>((columns + kThreads - 1) / kThreads), kColumnChunks);
  PRIMER_LAUNCH((column_partials_kernel<kSums, Terms>), grid, kThreads, 0, stream, terms, rows, columns,
                chunk_rows, scratch);
  PRIMER_LAUNCH(column_finish_kernel<kSums>, blocks_for(columns), kThreads, 0, stream, scratch, columns,
                sums);
  return cudaGetLastError();
}

}  // namespace primer::kernels
