#pragma once
// What the launchers' declarations share, safe to include from host C++: the runtime's types and the
// element types as the host names them. Launchers return cudaGetLastError(), so the backend checks
// every launch.
#include <cuda_runtime.h>

#include <cstdint>

namespace primer::kernels {

enum class ElementType { f32, f64, bf16, i32 };

}  // namespace primer::kernels
