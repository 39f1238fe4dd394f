#pragma once
// State the emulated runtime shares between its parts: the sticky last error, kernels' attributes and
// the launch census.
#include <cuda_runtime.h>

#include <cstddef>

namespace primer::interpret {

void set_last_error(cudaError_t error);
// What cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, ...) allowed, or the
// default 48 KiB.
std::size_t dynamic_shared_allowed(const void* kernel);
// Counts one launch of the kernel `name` (template arguments dropped) defined in `file`.
void count_launch(const char* file, const char* name);

}  // namespace primer::interpret
