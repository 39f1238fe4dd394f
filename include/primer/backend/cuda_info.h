#pragma once
// What this build knows about CUDA: whether the kernels were compiled in, how many GPUs the driver
// reports, and a round trip through a kernel on GPU 0 that proves the toolchain and the device agree.
#include <cstddef>
#include <string>

namespace primer {

struct CudaInfo {
  bool compiled = false;
  bool interpreted = false;  // the interpret mode: an emulated device on the CPU, not a GPU
  int device_count = 0;
  std::string device_name;  // GPU 0, when there is one
  std::string error;        // why device_count is 0, when the runtime said
};

CudaInfo cuda_info();

// Device memory through the CUDA allocator since the program started (zeros without CUDA).
struct CudaMemory {
  std::size_t allocated = 0;       // held by live tensors now
  std::size_t peak_allocated = 0;  // the most ever held at once
  std::size_t reserved = 0;        // obtained from cudaMalloc, cached blocks included
};
CudaMemory cuda_memory();
// Fills a device buffer with a kernel and reads it back; false with a reason in `error` on failure.
bool cuda_self_test(std::string& error);

}  // namespace primer
