#include "primer/tensor/allocator.h"

#include <array>
#include <cstdlib>
#include <list>
#include <mutex>
#include <new>
#include <unordered_map>

#include "primer/core/error.h"

namespace primer {
namespace {

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kCacheBlocks = false;  // AddressSanitizer must see every free to catch use after free
#else
constexpr bool kCacheBlocks = true;
#endif

// 64-byte alignment suits AVX-512 loads and oneDNN's preferred layout.
// Blocks from 64 KiB up are kept for reuse instead of being freed: glibc serves large ones with mmap and
// returns them to the kernel on free, and trims smaller ones off its heap, so a training step that
// allocates the same activations and gradients every time would page-fault through all of them again
// (measured: 18% of a CPU training step with the activations returned; with only blocks under 1 MiB
// returned, the 256 KiB weight gradients, still 1,000 faults a step). Steps repeat their sizes exactly,
// so blocks are reused by exact size; the cache is capped and sheds its oldest blocks.
class CpuAllocator final : public Allocator {
 public:
  ~CpuAllocator() override {
    for (const auto& [size, pointer] : cached_) std::free(pointer);
  }

  void* allocate(std::size_t nbytes, Device) override {
    const std::size_t rounded = round_up(nbytes == 0 ? 1 : nbytes);
    if (kCacheBlocks && rounded >= kCachedFrom) {
      std::lock_guard lock(mutex_);
      const auto found = by_size_.find(rounded);
      if (found != by_size_.end()) {
        const auto entry = found->second;
        void* pointer = entry->second;
        by_size_.erase(found);
        cached_.erase(entry);
        cached_bytes_ -= rounded;
        return pointer;
      }
    }
    void* pointer = std::aligned_alloc(kAlignment, rounded);
    if (pointer == nullptr) {
      release_cache();
      pointer = std::aligned_alloc(kAlignment, rounded);
    }
    if (pointer == nullptr) throw std::bad_alloc();
    return pointer;
  }

  void deallocate(void* pointer, std::size_t nbytes, Device) override {
    const std::size_t rounded = round_up(nbytes == 0 ? 1 : nbytes);
    if (!kCacheBlocks || rounded < kCachedFrom || rounded > kCacheCapacity) {
      std::free(pointer);
      return;
    }
    std::lock_guard lock(mutex_);
    cached_.emplace_back(rounded, pointer);
    by_size_.emplace(rounded, std::prev(cached_.end()));
    cached_bytes_ += rounded;
    while (cached_bytes_ > kCacheCapacity) {
      const auto& [size, oldest] = cached_.front();
      for (auto [it, end] = by_size_.equal_range(size); it != end; ++it) {
        if (it->second == cached_.begin()) {
          by_size_.erase(it);
          break;
        }
      }
      std::free(oldest);
      cached_bytes_ -= size;
      cached_.pop_front();
    }
  }

 private:
  static constexpr std::size_t kAlignment = 64;
  static constexpr std::size_t kCachedFrom = std::size_t{64} << 10;
  static constexpr std::size_t kCacheCapacity = std::size_t{4} << 30;

  static std::size_t round_up(std::size_t nbytes) {
    return (nbytes + kAlignment - 1) / kAlignment * kAlignment;
  }

  void release_cache() {
    std::lock_guard lock(mutex_);
    for (const auto& [size, pointer] : cached_) std::free(pointer);
    cached_.clear();
    by_size_.clear();
    cached_bytes_ = 0;
  }

  using Block = std::pair<std::size_t, void*>;
  std::mutex mutex_;
  std::list<Block> cached_;  // oldest first
  std::unordered_multimap<std::size_t, std::list<Block>::iterator> by_size_;
  std::size_t cached_bytes_ = 0;
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
