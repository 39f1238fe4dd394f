#include "primer/tensor/allocator.h"

#include <array>
#include <cstdlib>
#include <new>

#include "primer/core/error.h"

namespace primer {
namespace {

// 64-byte alignment suits AVX-512 loads and oneDNN's preferred layout.
class CpuAllocator final : public Allocator {
 public:
  void* allocate(std::size_t nbytes, Device) override {
    constexpr std::size_t alignment = 64;
    const std::size_t rounded = (nbytes + alignment - 1) / alignment * alignment;
    void* pointer = std::aligned_alloc(alignment, rounded == 0 ? alignment : rounded);
    if (pointer == nullptr) throw std::bad_alloc();
    return pointer;
  }
  void deallocate(void* pointer, std::size_t, Device) override { std::free(pointer); }
};

std::array<Allocator*, 2>& registry() {
  static CpuAllocator cpu_allocator;
  static std::array<Allocator*, 2> allocators{&cpu_allocator, nullptr};
  return allocators;
}

}  // namespace

Allocator& allocator_for(DeviceKind kind) {
  Allocator* allocator = registry()[static_cast<std::size_t>(kind)];
  PRIMER_CHECK(allocator != nullptr, "no allocator registered for {}", Device{kind, 0}.name());
  return *allocator;
}

void set_allocator(DeviceKind kind, Allocator* allocator) {
  registry()[static_cast<std::size_t>(kind)] = allocator;
}

}  // namespace primer
