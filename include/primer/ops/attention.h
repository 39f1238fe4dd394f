#pragma once
// Causal scaled softmax attention with an optional additive per-head position bias.
#include "primer/autograd/variable.h"

namespace primer::ops {

// q, k, v: [B, T, H, D], as the projections produce them (no transposes needed); bias: [H, T, T] or
// undefined. Returns [B, T, H, D]. Logits are scale * q.k + bias, masked to keys at or before the query.
Variable causal_attention(const Variable& q, const Variable& k, const Variable& v, const Variable& bias,
                          double scale);

}  // namespace primer::ops
