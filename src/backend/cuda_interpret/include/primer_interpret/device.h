#pragma once
// Force-included into every .cu file of an interpret-mode build (-DPRIMER_CUDA_INTERPRET=ON), which the
// host compiler compiles as C++: CUDA's qualifiers and built-in variables, barriers, warp shuffles,
// atomics and the device math the kernels use, on top of the emulated device (execution.h).
// __shared__ variables are thread_local: a block runs on one OS thread, so the block's threads share
// them, as on a GPU (CUDA's host headers would make them per-thread copies).
#define __global__
#define __device__
#define __host__
#define __launch_bounds__(...)
#define __shared__ static thread_local

#include <cuda_bf16.h>
#include <cuda_runtime.h>
#include <math.h>

#include <atomic>
#include <cstdint>
#include <cstring>

#include "primer_interpret/execution.h"
#include "primer_interpret/launch.h"

#define threadIdx (::primer::interpret::position().thread_idx)
#define blockIdx (::primer::interpret::position().block_idx)
#define blockDim (::primer::interpret::position().block_dim)
#define gridDim (::primer::interpret::position().grid_dim)
#define __syncthreads() ::primer::interpret::sync_threads(__FILE__, __LINE__)
#define __syncwarp(...) ::primer::interpret::sync_warp(__FILE__, __LINE__ __VA_OPT__(, ) __VA_ARGS__)
#define __shfl_xor_sync(mask, value, lane_mask, ...) \
  ::primer::interpret::shuffle_xor(mask, value, lane_mask, __FILE__, __LINE__ __VA_OPT__(, ) __VA_ARGS__)
#define __shfl_sync(mask, value, source, ...) \
  ::primer::interpret::shuffle_index(mask, value, source, __FILE__, __LINE__ __VA_OPT__(, ) __VA_ARGS__)

namespace primer::interpret {

inline void sync_warp(const char* file, int line, unsigned mask = 0xffffffffu) {
  warp_collective(mask, nullptr, nullptr, nullptr, file, line);
}

struct ShuffleInput {
  std::uint64_t bits;
  int source;  // the lane whose value this lane reads
};

inline void shuffle_combine(void* const* inputs, void* const* outputs, unsigned mask) {
  for (int lane = 0; lane < 32; ++lane) {
    if (!(mask >> lane & 1u)) continue;
    const auto* in = static_cast<const ShuffleInput*>(inputs[lane]);
    if (in->source < 0 || in->source >= 32 || !(mask >> in->source & 1u) || inputs[in->source] == nullptr) {
      device_failure("a shuffle read lane " + std::to_string(in->source) + ", which is outside the mask");
    }
    *static_cast<std::uint64_t*>(outputs[lane]) = static_cast<const ShuffleInput*>(inputs[in->source])->bits;
  }
}

template <class T>
T shuffle_from(unsigned mask, T value, int source, const char* file, int line) {
  static_assert(sizeof(T) <= sizeof(std::uint64_t) && std::is_trivially_copyable_v<T>);
  ShuffleInput in{0, source};
  std::memcpy(&in.bits, &value, sizeof(T));
  std::uint64_t out = 0;
  warp_collective(mask, shuffle_combine, &in, &out, file, line);
  T result;
  std::memcpy(&result, &out, sizeof(T));
  return result;
}

// Within segments of `width` lanes, as CUDA defines them.
template <class T>
T shuffle_xor(unsigned mask, T value, int lane_mask, const char* file, int line, int width = 32) {
  const int lane = static_cast<int>(position().lane);
  const int source = lane ^ lane_mask;
  return shuffle_from(mask, value, source / width == lane / width ? source : lane, file, line);
}

template <class T>
T shuffle_index(unsigned mask, T value, int source, const char* file, int line, int width = 32) {
  const int lane = static_cast<int>(position().lane);
  return shuffle_from(mask, value, lane / width * width + source % width, file, line);
}

}  // namespace primer::interpret

// Atomics are real atomics, so blocks may one day run on several OS threads.
template <class T>
T atomicAdd(T* address, T value) {
  return std::atomic_ref<T>(*address).fetch_add(value);
}

inline int atomicCAS(int* address, int compare, int value) {
  std::atomic_ref<int>(*address).compare_exchange_strong(compare, value);
  return compare;
}

inline float rsqrtf(float x) {
  return 1.0f / sqrtf(x);
}

// CUDA's C++ form, which its headers declare for nvcc only.
template <class T>
cudaError_t cudaFuncSetAttribute(T* kernel, cudaFuncAttribute attribute, int value) {
  return ::cudaFuncSetAttribute(reinterpret_cast<const void*>(kernel), attribute, value);
}
