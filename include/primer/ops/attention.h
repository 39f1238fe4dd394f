#pragma once
// Causal scaled softmax attention with an optional additive per-head position bias.
#include "primer/autograd/variable.h"

namespace primer::ops {

// q: [B, Tq, H, D], k, v: [B, Tk, H, D], as the projections produce them (no transposes needed), the
// queries being the last Tq of the Tk positions; bias: [H, Tq, Tk] or undefined. Returns [B, Tq, H, D].
// Logits are scale * q.k + bias, masked to keys at or before the query's position.
Variable causal_attention(const Variable& q, const Variable& k, const Variable& v, const Variable& bias,
                          double scale);

}  // namespace primer::ops
