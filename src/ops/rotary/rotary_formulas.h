#pragma once
// The angle a rotary pair turns by, written once for the CPU loop and the CUDA kernel: pair i of a head of
// 2 * half dimensions at absolute position p turns by p * base^(-2i / (2 half)). Computed in double and
// rounded once by the caller, so both devices build the same table.
#include <cmath>
#include <cstdint>

#include "primer/core/host_device.h"

namespace primer::ops {

PRIMER_HOST_DEVICE double rotary_angle(std::int64_t position, std::int64_t pair, std::int64_t half,
                                       double base) {
  return static_cast<double>(position) *
         std::pow(base, -2.0 * static_cast<double>(pair) / static_cast<double>(2 * half));
}

}  // namespace primer::ops
