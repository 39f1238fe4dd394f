// The race checker of the CUDA interpret mode (a ThreadSanitizer build, race_check.h): a planted
// shared-memory race is reported, and the kernels that share memory between threads (block reductions,
// the many-tensor sums of squares, column sums, the cross-entropy, the norms, the tensor-core and exact
// attention) run at small shapes without one. Run by tools/test.sh from its race-check build; elsewhere these
// tests skip.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <vector>

#include "copy.cuh"
#include "device_fault.cuh"
#include "launch.cuh"
#include "ops/attention/attention.cuh"
#include "ops/causal_dconv/causal_dconv.cuh"
#include "ops/cross_entropy/cross_entropy.cuh"
#include "ops/normalization/normalization.cuh"
#include "ops/residual_rms_norm/residual_rms_norm.cuh"
#include "reduce.cuh"

namespace {

std::atomic<int> race_reports{0};

}  // namespace

// ThreadSanitizer calls this for every report it prints (a weak hook of its runtime), holding its own
// locks: nothing in it may be checked, or a report about it would wait for them.
#if defined(__SANITIZE_THREAD__)
extern "C" __attribute__((no_sanitize_thread)) void __tsan_on_report(void*) {
  race_reports.fetch_add(1, std::memory_order_relaxed);
}
#endif

namespace {

using namespace primer::kernels;

constexpr int kThreads = 64;

__global__ void racy_rotate_kernel(const float* in, float* out, bool synchronized) {
  PRIMER_DYNAMIC_SHARED(float, tile);
  tile[threadIdx.x] = in[threadIdx.x];
  if (synchronized) __syncthreads();
  out[threadIdx.x] = tile[(threadIdx.x + 1) % kThreads];
}

// Device memory of `count` elements of T, filled with small distinct values.
template <class T>
T* device_values(std::size_t count, int seed) {
  std::vector<T> host(count);
  for (std::size_t i = 0; i < count; ++i) host[i] = static_cast<T>(((i * 7 + seed) % 13) / 13.0);
  void* device = nullptr;
  EXPECT_EQ(cudaMalloc(&device, count * sizeof(T)), cudaSuccess);
  EXPECT_EQ(cudaMemcpy(device, host.data(), count * sizeof(T), cudaMemcpyHostToDevice), cudaSuccess);
  return static_cast<T*>(device);
}

class RaceCheck : public ::testing::Test {
 protected:
  void SetUp() override {
#if !defined(__SANITIZE_THREAD__)
    GTEST_SKIP() << "needs the race-check build (-DPRIMER_SANITIZE_THREAD=ON)";
#endif
  }
};

TEST_F(RaceCheck, ASharedMemoryRaceIsReported) {
  float* in = device_values<float>(kThreads, 1);
  float* out = device_values<float>(kThreads, 2);
  const int before = race_reports.load();
  PRIMER_LAUNCH(racy_rotate_kernel, 1, kThreads, kThreads * sizeof(float), nullptr, in, out, true);
  cudaDeviceSynchronize();
  EXPECT_EQ(race_reports, before) << "a race reported where a barrier orders the accesses";
  PRIMER_LAUNCH(racy_rotate_kernel, 1, kThreads, kThreads * sizeof(float), nullptr, in, out, false);
  cudaDeviceSynchronize();
  EXPECT_GT(race_reports, before) << "the race went unreported";
  cudaFree(in);
  cudaFree(out);
}

TEST_F(RaceCheck, TheKernelsThatShareMemoryHaveNoRace) {
  const int before = race_reports.load();
  constexpr std::int64_t rows = 6, width = 300, vocab = 1013;
  float* x = device_values<float>(rows * width, 3);
  float* y = device_values<float>(rows * width, 4);
  float* grad = device_values<float>(rows * width, 5);
  float* gamma = device_values<float>(width, 6);
  float* beta = device_values<float>(width, 7);
  float* stats = device_values<float>(2 * rows, 8);
  float* columns = device_values<float>(4 * width, 9);
  float* scratch = device_values<float>(norm_backward_scratch_size(width) + sum_rows_scratch_size(width) +
                                            causal_dconv_backward_scratch_size(width),
                                        10);
  double* partials = device_values<double>(reduce_scratch_size() + 1, 11);
  EXPECT_EQ(sum(x, rows * width, true, partials, partials + reduce_scratch_size(), nullptr), cudaSuccess);
  EXPECT_EQ(sum_rows(x, rows, width, scratch, columns, nullptr), cudaSuccess);
  SquaresList squares{};
  squares.x[squares.spans.add(rows * width)] = x;
  squares.x[squares.spans.add(width)] = gamma;
  double* square_partials = device_values<double>(squares.spans.blocks(), 22);
  EXPECT_EQ(sum_squares_each(squares, square_partials, columns, nullptr), cudaSuccess);
  EXPECT_EQ(norm_forward(x, gamma, beta, 1e-5f, rows, width, y, stats, stats + rows, nullptr), cudaSuccess);
  EXPECT_EQ(norm_backward(grad, x, gamma, stats, stats + rows, rows, width, scratch, y, columns,
                          columns + width, nullptr),
            cudaSuccess);
  EXPECT_EQ(residual_rms_norm_forward(x, grad, gamma, 1e-5f, rows, width, columns, y, stats, nullptr),
            cudaSuccess);
  EXPECT_EQ(causal_dconv_backward(grad, x, gamma, 2, rows / 2, width / 3, scratch, y, columns, nullptr),
            cudaSuccess);

  float* logits = device_values<float>(rows * vocab, 12);
  float* grad_logits = device_values<float>(rows * vocab, 13);
  std::vector<std::int32_t> host_targets{0, 5, -1, 1012, 7, 3};
  std::int32_t* targets = device_values<std::int32_t>(rows, 0);
  cudaMemcpy(targets, host_targets.data(), rows * sizeof(std::int32_t), cudaMemcpyHostToDevice);
  DeviceFault* fault = reinterpret_cast<DeviceFault*>(device_values<double>(4, 0));
  cudaMemset(fault, 0, sizeof(DeviceFault));
  std::int64_t* counted = reinterpret_cast<std::int64_t*>(device_values<double>(1, 0));
  EXPECT_EQ(
      cross_entropy_forward(logits, targets, rows, vocab, 1e-4f, stats, stats + rows, y, fault, nullptr),
      cudaSuccess);
  EXPECT_EQ(cross_entropy_backward(y, logits, targets, stats + rows, rows, vocab, 1e-4f, counted, grad_logits,
                                   nullptr),
            cudaSuccess);

  // Attention at head size 32 (the tensor-core kernels' smallest), 70 queries over 70 keys, with a bias.
  const AttentionShape shape{1, 70, 70, 2, 32};
  const std::int64_t elements = shape.q_time * shape.heads * shape.head_dim;
  float* q = device_values<float>(elements, 14);
  float* k = device_values<float>(elements, 15);
  float* v = device_values<float>(elements, 16);
  float* out = device_values<float>(elements, 17);
  float* grad_out = device_values<float>(elements, 18);
  float* grads = device_values<float>(3 * elements, 19);
  constexpr std::int64_t buckets = 8;
  float* table = device_values<float>(buckets * shape.heads, 20);
  float* grad_table = device_values<float>(buckets * shape.heads, 21);
  std::vector<std::int32_t> host_buckets;
  for (std::int64_t distance = 0; distance < shape.k_time; ++distance)
    host_buckets.push_back(static_cast<std::int32_t>(distance % buckets));
  std::int32_t* distance_buckets = device_values<std::int32_t>(shape.k_time, 0);
  cudaMemcpy(distance_buckets, host_buckets.data(), host_buckets.size() * sizeof(std::int32_t),
             cudaMemcpyHostToDevice);
  const RelativeBiasTable bias{table, distance_buckets, buckets};
  float* distance_partials =
      device_values<float>(relative_bias_partial_rows(shape, true) * shape.heads * shape.k_time, 0);
  float* bias_scratch = device_values<float>(relative_bias_gradient_scratch(shape), 0);
  float* lse = device_values<float>(2 * shape.heads * shape.q_time, 22);
  for (const bool tensor_cores : {true, false}) {
    SCOPED_TRACE(tensor_cores ? "tensor-core attention" : "exact attention");
    const auto forward = tensor_cores ? flash_attention_forward : attention_forward;
    const auto backward = tensor_cores ? flash_attention_backward : attention_backward;
    EXPECT_EQ(forward(q, k, v, bias, 0.2f, shape, out, lse, nullptr), cudaSuccess);
    EXPECT_EQ(backward(grad_out, q, k, v, bias, 0.2f, out, lse, shape, lse + shape.heads * shape.q_time,
                       grads, grads + elements, grads + 2 * elements, distance_partials, nullptr),
              cudaSuccess);
    EXPECT_EQ(
        relative_bias_table_gradient(distance_partials, relative_bias_partial_rows(shape, tensor_cores),
                                     shape, distance_buckets, buckets, bias_scratch, grad_table, nullptr),
        cudaSuccess);
  }
  cudaDeviceSynchronize();
  EXPECT_EQ(race_reports, before) << "ThreadSanitizer reported races (above)";
}

}  // namespace
