#include "primer/tensor/storage.h"

namespace primer {

Storage::Storage(std::size_t nbytes, Device device)
    : nbytes_(nbytes), device_(device), allocator_(&allocator_for(device.kind)) {
  data_ = allocator_->allocate(nbytes, device);
}

Storage::~Storage() {
  allocator_->deallocate(data_, nbytes_, device_);
}

}  // namespace primer
