#pragma once
// The CUDA device allocator: cudaMalloc only when no cached block fits, so a training loop that repeats
// its shapes allocates nothing after the first step. Freed blocks are kept by exact rounded size; all
// work runs on the backend's one stream, so a block freed by the host is safe to hand out again in
// stream order. On out-of-memory the cache is released and the allocation retried once.
#include <cstddef>
#include <map>
#include <mutex>

#include "primer/tensor/allocator.h"

namespace primer::cuda {

struct DeviceMemoryStats {
  std::size_t allocated = 0;       // bytes held by live tensors
  std::size_t peak_allocated = 0;  // the most `allocated` has been
  std::size_t reserved = 0;        // bytes obtained from cudaMalloc (live + cached)
};

class DeviceAllocator final : public Allocator {
 public:
  ~DeviceAllocator() override;
  void* allocate(std::size_t nbytes, Device device) override;
  void deallocate(void* pointer, std::size_t nbytes, Device device) override;
  DeviceMemoryStats stats() const;

 private:
  void release_cache();  // holds mutex_

  mutable std::mutex mutex_;
  std::multimap<std::size_t, void*> cached_;
  DeviceMemoryStats stats_;
};

}  // namespace primer::cuda
