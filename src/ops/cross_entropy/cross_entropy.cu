#include "device_support.cuh"
#include "ops/cross_entropy/cross_entropy.cuh"

namespace primer::kernels {
namespace {

// A target outside the vocabulary counts as ignored here; forward reports it as a fault.
__device__ bool counted(std::int32_t target, std::int64_t vocab) {
  return target >= 0 && target < vocab;
}

// One block per row.
__global__ void forward_rows_kernel(const float* logits, const std::int32_t* targets, std::int64_t vocab,
                                    float z_loss, float* loss_terms, float* lse, DeviceFault* fault) {
  const float* row = logits + blockIdx.x * vocab;
  float largest = -INFINITY;
  for (std::int64_t j = threadIdx.x; j < vocab; j += blockDim.x) largest = fmaxf(largest, row[j]);
  largest = block_max(largest);
  float total = 0.0f;
  for (std::int64_t j = threadIdx.x; j < vocab; j += blockDim.x) total += expf(row[j] - largest);
  total = block_sum(total);
  if (threadIdx.x == 0) {
    const float row_lse = largest + logf(total);
    lse[blockIdx.x] = row_lse;
    const std::int32_t target = targets[blockIdx.x];
    if (target >= vocab) report_fault(fault, FaultKind::cross_entropy_target, blockIdx.x, target, vocab);
    loss_terms[blockIdx.x] =
        counted(target, vocab) ? row_lse - row[target] + z_loss * row_lse * row_lse : 0.0f;
  }
}

constexpr int kSumThreads = 1024;

// The loss terms' sum and the count of counted rows, in double, by one block: each thread adds a strided
// share in order, then a tree in shared memory; the same order on every run, so deterministic, and a
// thousand threads where one thread walking 16k rows took a millisecond.
__device__ void sum_rows(const float* loss_terms, const std::int32_t* targets, std::int64_t rows,
                         std::int64_t vocab, double& total, double& rows_counted) {
  __shared__ double totals[kSumThreads];
  __shared__ double counts[kSumThreads];
  double own_total = 0.0, own_count = 0.0;
  for (std::int64_t n = threadIdx.x; n < rows; n += blockDim.x) {
    if (loss_terms != nullptr) own_total += loss_terms[n];
    own_count += counted(targets[n], vocab) ? 1.0 : 0.0;
  }
  totals[threadIdx.x] = own_total;
  counts[threadIdx.x] = own_count;
  __syncthreads();
  for (unsigned stride = blockDim.x / 2; stride > 0; stride /= 2) {
    if (threadIdx.x < stride) {
      totals[threadIdx.x] += totals[threadIdx.x + stride];
      counts[threadIdx.x] += counts[threadIdx.x + stride];
    }
    __syncthreads();
  }
  total = totals[0];
  rows_counted = counts[0];
}

__global__ void mean_kernel(const float* loss_terms, const std::int32_t* targets, std::int64_t rows,
                            std::int64_t vocab, float* loss) {
  double total = 0.0, rows_counted = 0.0;
  sum_rows(loss_terms, targets, rows, vocab, total, rows_counted);
  if (threadIdx.x == 0) *loss = rows_counted > 0 ? static_cast<float>(total / rows_counted) : 0.0f;
}

__global__ void count_kernel(const std::int32_t* targets, std::int64_t rows, std::int64_t vocab,
                             std::int64_t* rows_counted) {
  double total = 0.0, counted_rows = 0.0;
  sum_rows(nullptr, targets, rows, vocab, total, counted_rows);
  if (threadIdx.x == 0) *rows_counted = static_cast<std::int64_t>(counted_rows);
}

__global__ void backward_kernel(const float* grad_loss, const float* logits, const std::int32_t* targets,
                                const float* lse, std::int64_t vocab, float z_loss,
                                const std::int64_t* rows_counted, float* grad_logits) {
  const std::int64_t n = blockIdx.x;
  const std::int32_t target = targets[n];
  float* out = grad_logits + n * vocab;
  const float scale = *rows_counted > 0 ? *grad_loss / static_cast<float>(*rows_counted) : 0.0f;
  const float factor = scale * (1.0f + 2.0f * z_loss * lse[n]);
  const bool row_counted = counted(target, vocab);
  for (std::int64_t j = threadIdx.x; j < vocab; j += blockDim.x) {
    out[j] =
        row_counted ? factor * expf(logits[n * vocab + j] - lse[n]) - (j == target ? scale : 0.0f) : 0.0f;
  }
}

}  // namespace

cudaError_t cross_entropy_forward(const float* logits, const std::int32_t* targets, std::int64_t rows,
                                  std::int64_t vocab, float z_loss, float* loss_terms, float* lse,
                                  float* loss, DeviceFault* fault, cudaStream_t stream) {
  if (rows > 0) {
    PRIMER_LAUNCH(forward_rows_kernel, static_cast<unsigned>(rows), kThreads, 0, stream, logits, targets,
                  vocab, z_loss, loss_terms, lse, fault);
  }
  PRIMER_LAUNCH(mean_kernel, 1, kSumThreads, 0, stream, loss_terms, targets, rows, vocab, loss);
  return cudaGetLastError();
}

cudaError_t cross_entropy_backward(const float* grad_loss, const float* logits, const std::int32_t* targets,
                                   const float* lse, std::int64_t rows, std::int64_t vocab, float z_loss,
                                   std::int64_t* counted_scratch, float* grad_logits, cudaStream_t stream) {
  if (rows == 0) return cudaSuccess;
  PRIMER_LAUNCH(count_kernel, 1, kSumThreads, 0, stream, targets, rows, vocab, counted_scratch);
  PRIMER_LAUNCH(backward_kernel, static_cast<unsigned>(rows), kThreads, 0, stream, grad_loss, logits, targets,
                lse, vocab, z_loss, counted_scratch, grad_logits);
  return cudaGetLastError();
}

}  // namespace primer::kernels
