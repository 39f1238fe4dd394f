#pragma once
// Rotary position embedding, applied to queries and keys after MDHA's convolution.
#include "primer/autograd/variable.h"

namespace primer::ops {

// x: [B, T, H, D], D even; position t of the sequence is at absolute position position_offset + t.
Variable rotary(const Variable& x, std::int64_t position_offset, double base);

}  // namespace primer::ops
