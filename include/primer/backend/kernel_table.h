#pragma once
// An op's kernels by device, as ATen's dispatch table has them: each op slice (src/ops/<op>/) lists its
// CPU kernel and, in a build with CUDA, its CUDA kernel in one KernelTable, and calls the one for its
// operands' device. Adding a device is a column here and a kernel per op, not a new interface.
#include "primer/core/error.h"
#include "primer/tensor/device.h"

namespace primer {

template <class Kernel>
struct KernelTable {
  const char* op;
  Kernel cpu;
  Kernel cuda;  // null in a build without CUDA (PRIMER_CUDA_KERNEL)

  Kernel at(Device device) const {
    const Kernel kernel = device.kind == DeviceKind::cpu ? cpu : cuda;
    PRIMER_CHECK(kernel != nullptr, "{}: this build has no kernel for {}", op, device.name());
    return kernel;
  }
};

}  // namespace primer

#ifdef PRIMER_HAS_CUDA
#define PRIMER_CUDA_KERNEL(kernel) (kernel)
#else
#define PRIMER_CUDA_KERNEL(kernel) nullptr
#endif
