#pragma once
// An allocator that counts what passes through it to the one it wraps: calls, and live and peak bytes.
// Installed for a device kind while it lives; storage it handed out must be freed before it goes.
#include <algorithm>
#include <cstddef>

#include "primer/tensor/allocator.h"

namespace primer::testing {

class CountingAllocator final : public Allocator {
 public:
  explicit CountingAllocator(DeviceKind kind) : kind_(kind), inner_(allocator_for(kind)) {
    set_allocator(kind_, this);
  }
  ~CountingAllocator() override { set_allocator(kind_, &inner_); }
  CountingAllocator(const CountingAllocator&) = delete;
  CountingAllocator& operator=(const CountingAllocator&) = delete;

  void* allocate(std::size_t nbytes, Device device) override {
    ++allocations;
    live_bytes += nbytes;
    peak_bytes = std::max(peak_bytes, live_bytes);
    return inner_.allocate(nbytes, device);
  }
  void deallocate(void* pointer, std::size_t nbytes, Device device) override {
    ++deallocations;
    live_bytes -= nbytes;
    inner_.deallocate(pointer, nbytes, device);
  }

  int allocations = 0;
  int deallocations = 0;
  std::size_t live_bytes = 0;
  std::size_t peak_bytes = 0;

 private:
  DeviceKind kind_;
  Allocator& inner_;
};

}  // namespace primer::testing
