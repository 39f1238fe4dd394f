#pragma once
// What a tensor needs from its device besides memory (allocator.h): copies between tensors (any strides
// and dtypes, host to device and back) and fills. Each backend registers its own for its device kind, as
// it registers an allocator, so the tensor layer sits below the backends and reaches them only here.
#include "primer/tensor/device.h"

namespace primer {

class Tensor;

class DeviceTransfers {
 public:
  virtual ~DeviceTransfers() = default;
  // Equal shapes; any strides; converts between dtypes.
  virtual void copy(const Tensor& source, const Tensor& destination) = 0;
  virtual void fill(const Tensor& destination, double value) = 0;
};

// Throws primer::Error when none is registered for the kind (e.g. CUDA not built).
DeviceTransfers& transfers_for(DeviceKind kind);
// The caller keeps ownership and must outlive every tensor of the kind.
void set_transfers(DeviceKind kind, DeviceTransfers* transfers);

}  // namespace primer
