#include "primer/backend/cuda_info.h"

#ifdef PRIMER_HAS_CUDA
#include <cuda_runtime.h>

#include <vector>

#include "backend/cuda/cuda_kernel_support.h"
#include "copy.cuh"
#include "primer/backend/backend.h"
#endif

namespace primer {

#ifdef PRIMER_HAS_CUDA

CudaInfo cuda_info() {
  CudaInfo info;
  info.compiled = true;
#ifdef PRIMER_CUDA_INTERPRET
  info.interpreted = true;
#endif
  const cudaError_t status = cudaGetDeviceCount(&info.device_count);
  if (status != cudaSuccess) {
    info.device_count = 0;
    info.error = cudaGetErrorString(status);
    return info;
  }
  if (info.device_count > 0) {
    cudaDeviceProp properties{};
    if (cudaGetDeviceProperties(&properties, 0) == cudaSuccess) info.device_name = properties.name;
  }
  return info;
}

CudaMemory cuda_memory() {
  const cuda::DeviceMemoryStats stats = cuda::cuda_backend().allocator().stats();
  return {stats.allocated, stats.peak_allocated, stats.reserved};
}

bool cuda_self_test(std::string& error) {
  constexpr std::int64_t count = 100003;
  float* device = nullptr;
  std::vector<float> host(count, 0.0f);
  cudaError_t status = cudaMalloc(&device, count * sizeof(float));
  if (status == cudaSuccess) status = kernels::fill(device, kernels::ElementType::f32, count, 2.5, nullptr);
  if (status == cudaSuccess)
    status = cudaMemcpy(host.data(), device, count * sizeof(float), cudaMemcpyDeviceToHost);
  if (device != nullptr) cudaFree(device);
  if (status != cudaSuccess) {
    error = cudaGetErrorString(status);
    return false;
  }
  for (const float value : host) {
    if (value != 2.5f) {
      error = "fill kernel wrote a wrong value";
      return false;
    }
  }
  return true;
}

#else

CudaInfo cuda_info() {
  CudaInfo info;
  info.error = "this build has no CUDA (configured with PRIMER_CUDA=OFF or no nvcc)";
  return info;
}

CudaMemory cuda_memory() {
  return {};
}

bool cuda_self_test(std::string& error) {
  error = "this build has no CUDA";
  return false;
}

#endif

}  // namespace primer
