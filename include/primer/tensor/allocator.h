#pragma once
// Allocators are pluggable per device kind: storage asks the registered allocator for bytes and returns
// them to it. The CPU default hands out 64-byte-aligned blocks; the CUDA backend registers a caching one.
#include <cstddef>

#include "primer/tensor/device.h"

namespace primer {

class Allocator {
 public:
  virtual ~Allocator() = default;
  virtual void* allocate(std::size_t nbytes, Device device) = 0;
  virtual void deallocate(void* pointer, std::size_t nbytes, Device device) = 0;
};

// The allocator for a device kind. Throws primer::Error when none is registered (e.g. CUDA not built).
Allocator& allocator_for(DeviceKind kind);
// Replaces the allocator for a device kind; the caller keeps ownership and must outlive every storage.
void set_allocator(DeviceKind kind, Allocator* allocator);

}  // namespace primer
