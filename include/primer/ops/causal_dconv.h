#pragma once
// The causal width-3 depthwise convolution of Multi-DConv-Head Attention.
#include "primer/autograd/variable.h"

namespace primer::ops {

// x: [B, T, C]; weight: [3, C], tap 0 on the current position, taps 1 and 2 on the two before it.
Variable causal_dconv(const Variable& x, const Variable& weight);

}  // namespace primer::ops
