#pragma once
// A reference-counted block of device memory, shared by a tensor and all of its views.
#include <cstddef>
#include <memory>

#include "primer/tensor/allocator.h"
#include "primer/tensor/device.h"

namespace primer {

class Storage {
 public:
  Storage(std::size_t nbytes, Device device);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() const { return data_; }
  std::size_t nbytes() const { return nbytes_; }
  Device device() const { return device_; }

 private:
  void* data_ = nullptr;
  std::size_t nbytes_ = 0;
  Device device_;
  Allocator* allocator_ = nullptr;
};

}  // namespace primer
