// The relative bias table's gradient from the attention backward's per-distance partial sums: the rows
// added column by column in a fixed order (column_sums), then each (bucket, head) summing its distances in
// order. No atomics: the same inputs give the same bits.
#include "column_sums.cuh"
#include "device_support.cuh"
#include "ops/attention/attention.cuh"

namespace primer::kernels {
namespace {

struct PartialTerms {
  const float* partials;
  std::int64_t columns;
  __device__ void operator()(std::int64_t row, std::int64_t column, float* totals) const {
    totals[0] += partials[row * columns + column];
  }
};

// A thread per (bucket, head) over every distance: the table is small (32 x heads) and so are the distances.
__global__ void bucket_kernel(const float* by_distance, const std::int32_t* distance_buckets,
                              AttentionShape s, std::int64_t buckets, float* grad_table) {
  PRIMER_GRID_STRIDE(index, buckets * s.heads) {
    const std::int64_t bucket = index / s.heads, h = index % s.heads;
    float total = 0.0f;
    for (std::int64_t distance = 0; distance < s.k_time; ++distance) {
      if (distance_buckets[distance] == bucket) total += by_distance[h * s.k_time + distance];
    }
    grad_table[index] = total;
  }
}

__global__ void check_buckets_kernel(RelativeBiasTable bias, std::int64_t k_time, DeviceFault* fault) {
  PRIMER_GRID_STRIDE(distance, k_time) {
    const std::int32_t bucket = bias.distance_buckets[distance];
    if (bucket < 0 || bucket >= bias.buckets)
      report_fault(fault, FaultKind::attention_bucket, distance, bucket, bias.buckets);
  }
}

}  // namespace

cudaError_t check_distance_buckets(RelativeBiasTable bias, std::int64_t k_time, DeviceFault* fault,
                                   cudaStream_t stream) {
  if (k_time == 0) return cudaSuccess;
  PRIMER_LAUNCH(check_buckets_kernel, blocks_for(k_time), kThreads, 0, stream, bias, k_time, fault);
  return cudaGetLastError();
}

std::int64_t relative_bias_partial_rows(const AttentionShape& shape, bool tensor_cores) {
  // The tensor-core kernels write a row per key tile and batch; the exact ones a row per batch.
  return tensor_cores ? shape.batch * ((shape.k_time + kFlashAttentionTile - 1) / kFlashAttentionTile)
                      : shape.batch;
}

std::int64_t relative_bias_gradient_scratch(const AttentionShape& shape) {
  const std::int64_t columns = shape.heads * shape.k_time;
  return column_sums_scratch(columns, 1) + columns;
}

cudaError_t relative_bias_table_gradient(const float* distance_partials, std::int64_t rows,
                                         const AttentionShape& shape, const std::int32_t* distance_buckets,
                                         std::int64_t buckets, float* scratch, float* grad_table,
                                         cudaStream_t stream) {
  const std::int64_t columns = shape.heads * shape.k_time;
  float* by_distance = scratch + column_sums_scratch(columns, 1);
  const cudaError_t summed = column_sums<1>(PartialTerms{distance_partials, columns}, rows, columns, scratch,
                                            ColumnSums<1>{{by_distance}}, stream);
  if (summed != cudaSuccess) return summed;
  PRIMER_LAUNCH(bucket_kernel, blocks_for(buckets * shape.heads), kThreads, 0, stream, by_distance,
                distance_buckets, shape, buckets, grad_table);
  return cudaGetLastError();
}

}  // namespace primer::kernels
