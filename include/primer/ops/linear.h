#pragma once
// Matrix products. linear follows PyTorch's layout: weight [out, in], y = x weight^T + bias.
#include "primer/autograd/variable.h"

namespace primer::ops {

// a: [M, K] or [B, M, K]; b: [K, N] or [B, K, N] (a 2-D b is shared across a's batch).
Variable matmul(const Variable& a, const Variable& b);
// x: [..., in]; weight: [out, in]; bias: [out] or undefined. Returns [..., out].
Variable linear(const Variable& x, const Variable& weight, const Variable& bias = Variable());

}  // namespace primer::ops
