#pragma once
// Causal scaled softmax attention with an optional T5 relative position bias.
#include "primer/autograd/variable.h"

namespace primer::ops {

// T5's relative position bias as attention takes it: a learned scalar per (bucket, head), `table`
// [buckets, H], and the bucket of every distance d = query position - key position in [0, Tk),
// `distance_buckets` (i32 [Tk] on the table's device, each in [0, buckets)). The kernels look the bias up as
// they go: no [H, Tq, Tk] bias tensor exists, and the table's gradient is summed by distance, then by
// bucket, in a fixed order.
struct RelativeBias {
  Variable table;
  Tensor distance_buckets;
  bool defined() const { return table.defined(); }
};

// q: [B, Tq, H, D], k, v: [B, Tk, H, D], as the projections produce them (no transposes needed), the
// queries being the last Tq of the Tk positions. Returns [B, Tq, H, D]. Logits are scale * q.k plus the
// bias of the head and distance when one is given, masked to keys at or before the query's position.
Variable causal_attention(const Variable& q, const Variable& k, const Variable& v, const RelativeBias& bias,
                          double scale);

// Multi-DConv-Head Attention's three causal width-3 depthwise convolutions, taps [3, H * D] each with tap 0
// on the current position (as causal_dconv's weight).
struct DConvTaps {
  Variable q, k, v;
};

// causal_attention(causal_dconv(q, taps.q), causal_dconv(k, taps.k), causal_dconv(v, taps.v), ...) with the
// head dimensions split, in one op: the convolved rows exist only inside the kernels (the CPU's convolves a
// head at a time into its cache and takes the convolutions' gradients there), so no convolved tensor is
// written, read back or kept for backward. Training's shape: q, k, v [B, T, H, D] over the same positions.
Variable dconv_causal_attention(const Variable& q, const Variable& k, const Variable& v,
                                const DConvTaps& taps, const RelativeBias& bias, double scale);

}  // namespace primer::ops
