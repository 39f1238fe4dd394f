#pragma once
// A kernel's scratch array, zeroed and 64-byte aligned as the allocator's tensors are. std::vector's large
// blocks come from glibc 16 bytes into a page, so every 64-byte row of a scratch matrix straddles two
// cache lines and each AVX-512 load or store of it touches both.
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <new>

namespace primer::cpu {

template <class T>
class AlignedScratch {
 public:
  static constexpr std::size_t kAlignment = 64;

  AlignedScratch() = default;
  explicit AlignedScratch(std::size_t size) : size_(size) {
    if (size == 0) return;
    const std::size_t bytes = (size * sizeof(T) + kAlignment - 1) / kAlignment * kAlignment;
    data_ = static_cast<T*>(std::aligned_alloc(kAlignment, bytes));
    if (data_ == nullptr) throw std::bad_alloc();
    std::memset(static_cast<void*>(data_), 0, bytes);
  }
  AlignedScratch(const AlignedScratch&) = delete;
  AlignedScratch& operator=(const AlignedScratch&) = delete;
  ~AlignedScratch() { std::free(data_); }

  T* data() { return data_; }
  const T* data() const { return data_; }
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

 private:
  T* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace primer::cpu
