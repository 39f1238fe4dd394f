#pragma once
// Every kernel launch and every dynamic shared memory declaration goes through these two macros, so the
// same .cu files build with nvcc and, in the interpret mode (-DPRIMER_CUDA_INTERPRET=ON), with the host
// compiler against the emulated device (src/backend/cuda_interpret):
//   PRIMER_LAUNCH(kernel, grid, block, shared_bytes, stream, arguments...);
//   PRIMER_DYNAMIC_SHARED(type, name);  // type* name, 128-byte aligned
// A kernel whose template arguments hold a comma goes in parentheses: PRIMER_LAUNCH((k<A, B>), ...).
#ifdef PRIMER_CUDA_INTERPRET
#include "primer_interpret/launch.h"
#define PRIMER_LAUNCH(kernel, grid, block, shared_bytes, stream, ...)                                        \
  ::primer::interpret::Launcher(kernel, ::primer::interpret::KernelLaunch{                                   \
                                            ::primer::interpret::kernel_identity(kernel), #kernel, __FILE__, \
                                            dim3(grid), dim3(block), (shared_bytes), (stream)})(__VA_ARGS__)
#define PRIMER_DYNAMIC_SHARED(type, name) \
  type* name = reinterpret_cast<type*>(::primer::interpret::position().dynamic_shared)
#else
#define PRIMER_LAUNCH(kernel, grid, block, shared_bytes, stream, ...) \
  kernel<<<grid, block, shared_bytes, stream>>>(__VA_ARGS__)
#define PRIMER_DYNAMIC_SHARED(type, name) extern __shared__ __align__(128) type name[]
#endif
