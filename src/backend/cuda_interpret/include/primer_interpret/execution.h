#pragma once
// What emulated device code calls into: where the calling CUDA thread is, the block barrier, the warp's
// collective steps (shuffles, __syncwarp, the WMMA product) and the launch of a grid. The scheduler
// behind it (thread_scheduler.cpp) runs each block's threads as fibers on one OS thread.
#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace primer::interpret {

struct ThreadPosition {
  uint3 thread_idx;
  uint3 block_idx;
  dim3 block_dim;
  dim3 grid_dim;
  unsigned lane;
  unsigned warp;
  unsigned char* dynamic_shared;
};

// The calling emulated thread's position (set by the scheduler as it switches threads); device code
// called outside a kernel is an error.
extern thread_local const ThreadPosition* current_position;
[[noreturn]] void outside_a_kernel(const char* what);
inline const ThreadPosition& position() {
  if (current_position == nullptr) outside_a_kernel("threadIdx/blockIdx");
  return *current_position;
}

void sync_threads(const char* file, int line);

// A step of the lanes in `mask`: every lane arrives with `input` and `output`; once all have arrived,
// `combine` runs once over them (null entries for lanes outside the mask), then they all go on. A null
// combine is __syncwarp.
using WarpCombine = void (*)(void* const* inputs, void* const* outputs, unsigned mask);
void warp_collective(unsigned mask, WarpCombine combine, void* input, void* output, const char* file,
                     int line);

// Stops the launch with a message naming the kernel, the block and the thread.
[[noreturn]] void device_failure(const std::string& what);

struct KernelLaunch {
  const void* kernel;  // identity, for cudaFuncSetAttribute
  const char* name;    // as written at the launch site
  const char* file;
  dim3 grid;
  dim3 block;
  std::size_t shared_bytes;
  cudaStream_t stream;
};

// A pointer argument of a kernel, which must be null or point into device memory.
struct PointerArgument {
  int index;
  const void* pointer;
};

// Checks the launch against the device profile and runs `thread_body` once per emulated thread of every
// block; what it finds wrong becomes the launch's error (cudaGetLastError) or, for a fault inside the
// kernel, an exception naming kernel, block and thread.
void launch(const KernelLaunch& launch, const std::vector<PointerArgument>& pointers,
            std::function<void()> thread_body);

}  // namespace primer::interpret
