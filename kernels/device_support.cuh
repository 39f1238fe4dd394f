#pragma once
// Device-side helpers for the .cu files only: grid sizing for grid-stride loops and warp/block
// reductions.
#include <cuda_bf16.h>

#include "common.cuh"
#include "device_fault.cuh"
#include "launch.cuh"

namespace primer::kernels {

constexpr int kThreads = 256;

inline int blocks_for(std::int64_t count, int threads = kThreads) {
  const std::int64_t wanted = (count + threads - 1) / threads;
  return static_cast<int>(wanted < 65535 ? (wanted > 0 ? wanted : 1) : 65535);
}

struct Add {
  __device__ float operator()(float a, float b) const { return a + b; }
};
struct Max {
  __device__ float operator()(float a, float b) const { return fmaxf(a, b); }
};

template <class Combine>
__device__ float warp_reduce(float value, Combine combine) {
  for (int offset = 16; offset > 0; offset /= 2)
    value = combine(value, __shfl_xor_sync(0xffffffffu, value, offset));
  return value;
}

// Over the block (blockDim.x a multiple of 32, at most 1024); every thread gets the result. identity is
// what lanes beyond the last warp contribute.
template <class Combine>
__device__ float block_reduce(float value, float identity, Combine combine) {
  __shared__ float partial[32];
  __shared__ float total;
  value = warp_reduce(value, combine);
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  if (lane == 0) partial[warp] = value;
  __syncthreads();
  if (warp == 0) {
    value = warp_reduce(lane < static_cast<int>(blockDim.x / 32) ? partial[lane] : identity, combine);
    if (lane == 0) total = value;
  }
  __syncthreads();
  const float result = total;
  __syncthreads();  // the next reduction may reuse partial and total
  return result;
}

__device__ inline float warp_sum(float value) {
  return warp_reduce(value, Add{});
}
__device__ inline float block_sum(float value) {
  return block_reduce(value, 0.0f, Add{});
}
__device__ inline float block_max(float value) {
  return block_reduce(value, -INFINITY, Max{});
}

// Records the first fault of its kind of run; later ones are dropped (one error is enough to stop).
__device__ inline void report_fault(DeviceFault* fault, FaultKind kind, std::int64_t position, int value,
                                    std::int64_t limit) {
  if (atomicCAS(&fault->kind, 0, static_cast<int>(kind)) == 0) {
    fault->value = value;
    fault->position = position;
    fault->limit = limit;
  }
}

#define PRIMER_GRID_STRIDE(i, count)                                                                   \
  for (std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; i < (count); \
       i += static_cast<std::int64_t>(gridDim.x) * blockDim.x)

}  // namespace primer::kernels
