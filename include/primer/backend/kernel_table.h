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
  Kernel cuda;  // null in a build without CUDA

  Kernel at(Device device) const {
    const Kernel kernel = device.kind == DeviceKind::cpu ? cpu : cuda;
    PRIMER_CHECK(kernel != nullptr, "{}: this build has no kernel for {}", op, device.name());
    return kernel;
  }
};

}  // namespace primer

// Declares the kernel `name`, of the function type Kernel, once per device: primer::cpu::name (defined in
// the slice's <op>_cpu.cpp) and primer::cuda::name (in <op>_cuda.cpp, built only with CUDA). Used at
// namespace primer scope in a slice's <op>_kernels.h.
#define PRIMER_DECLARE_KERNEL(Kernel, name) \
  namespace cpu {                           \
  Kernel name;                              \
  }                                         \
  namespace cuda {                          \
  Kernel name;                              \
  }

// The KernelTable of a kernel declared so: its CPU definition and, in a build with CUDA, its CUDA one.
#ifdef PRIMER_HAS_CUDA
#define PRIMER_KERNEL_TABLE(op_name, name) \
  { op_name, ::primer::cpu::name, ::primer::cuda::name }
#else
#define PRIMER_KERNEL_TABLE(op_name, name) \
  { op_name, ::primer::cpu::name, nullptr }
#endif
