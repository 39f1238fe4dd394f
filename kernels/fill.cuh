#pragma once
// fill: writes one value into every element of a device array (the first kernel; the rest of the CUDA
// backend builds on the same launch and error-checking conventions).
#include <cuda_runtime.h>

#include <cstdint>

namespace primer::kernels {

cudaError_t fill_f32(float* data, std::int64_t count, float value, cudaStream_t stream);

}  // namespace primer::kernels
