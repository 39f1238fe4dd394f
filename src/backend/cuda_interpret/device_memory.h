#pragma once
// Device memory of the interpret mode: one reserved range of address space, closed to the host
// (PROT_NONE) except while emulated device work runs, so a host dereference of a device pointer faults
// and is named. Allocations are 256-byte aligned; under AddressSanitizer the bytes past each allocation's
// end are poisoned, so a kernel reading or writing past its buffer is reported.
#include <cstddef>
#include <optional>

namespace primer::interpret {

struct DeviceAllocation {
  const char* begin;
  std::size_t bytes;
};

void* device_allocate(std::size_t bytes);  // null when the arena is full
bool device_free(void* pointer);           // false for a pointer cudaMalloc did not return
// The live allocation holding `pointer`, if any.
std::optional<DeviceAllocation> device_allocation_of(const void* pointer);
bool in_device_range(const void* pointer);

// While one exists, device memory is open to this process (kernels, copies, cuBLASLt, NCCL).
class DeviceAccess {
 public:
  DeviceAccess();
  ~DeviceAccess();
  DeviceAccess(const DeviceAccess&) = delete;
  DeviceAccess& operator=(const DeviceAccess&) = delete;
};

}  // namespace primer::interpret
