#include "backend/cuda/device_allocator.h"

#include "backend/cuda/cuda_check.h"
#ifdef PRIMER_CUDA_INTERPRET
#include "primer_interpret/allocation_checks.h"
#endif

namespace primer::cuda {
namespace {

// 512-byte granules keep every block aligned for vector loads and let near sizes share blocks.
std::size_t rounded(std::size_t nbytes) {
  constexpr std::size_t granule = 512;
  return (std::max<std::size_t>(nbytes, 1) + granule - 1) / granule * granule;
}

// In the CUDA interpret mode device memory is host memory, and the emulator checks what is done with a
// cached block (primer_interpret/allocation_checks.h). On a GPU the host never touches it.
void mark_in_use(void* pointer, std::size_t nbytes, std::size_t size) {
#ifdef PRIMER_CUDA_INTERPRET
  interpret::block_in_use(pointer, nbytes, size);
#else
  (void)pointer, (void)nbytes, (void)size;
#endif
}

void mark_cached(void* pointer, std::size_t size) {
#ifdef PRIMER_CUDA_INTERPRET
  interpret::block_cached(pointer, size);
#else
  (void)pointer, (void)size;
#endif
}

}  // namespace

DeviceAllocator::~DeviceAllocator() {
  for (const auto& [size, pointer] : cached_) cudaFree(pointer);
}

void* DeviceAllocator::allocate(std::size_t nbytes, Device device) {
  const std::size_t size = rounded(nbytes);
  std::lock_guard lock(mutex_);
  void* pointer = nullptr;
  const auto found = cached_.find(size);
  if (found != cached_.end()) {
    pointer = found->second;
    cached_.erase(found);
  } else {
    PRIMER_CUDA_CHECK(cudaSetDevice(device.index));
    if (cudaMalloc(&pointer, size) != cudaSuccess) {
      (void)cudaGetLastError();  // clear the sticky out-of-memory status before retrying
      release_cache();
      const cudaError_t status = cudaMalloc(&pointer, size);
      PRIMER_CHECK(status == cudaSuccess, "CUDA: out of memory allocating {} bytes ({} in use, peak {}): {}",
                   size, stats_.allocated, stats_.peak_allocated, cudaGetErrorString(status));
    }
    stats_.reserved += size;
  }
  stats_.allocated += size;
  stats_.peak_allocated = std::max(stats_.peak_allocated, stats_.allocated);
  mark_in_use(pointer, nbytes, size);
  return pointer;
}

void DeviceAllocator::deallocate(void* pointer, std::size_t nbytes, Device) {
  const std::size_t size = rounded(nbytes);
  std::lock_guard lock(mutex_);
  mark_cached(pointer, size);
  cached_.emplace(size, pointer);
  stats_.allocated -= size;
}

DeviceMemoryStats DeviceAllocator::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

void DeviceAllocator::release_cache() {
  for (const auto& [size, pointer] : cached_) {
    cudaFree(pointer);
    stats_.reserved -= size;
  }
  cached_.clear();
}

}  // namespace primer::cuda
