#pragma once
// The rotary kernel, defined once per device (rotary_cpu.cpp, rotary_cuda.cpp); rotary.cpp checks the
// shapes. x, out: [B, T, H, D], D even; inverse turns the other way (the backward).
#include <cstdint>

#include "primer/backend/kernel_table.h"
#include "primer/tensor/tensor.h"

namespace primer::ops {

using RotaryKernel = void(const Tensor& x, std::int64_t position_offset, double base, bool inverse,
                          const Tensor& out);

}  // namespace primer::ops

namespace primer {

PRIMER_DECLARE_KERNEL(ops::RotaryKernel, rotary)

}  // namespace primer
