#pragma once
// Token embedding lookup; the backward pass scatter-adds into the table's gradient.
#include "primer/autograd/variable.h"

namespace primer::ops {

// table: [V, C]; ids: i32 of any shape. Returns ids.shape + [C].
Variable embedding(const Variable& table, const Tensor& ids);

}  // namespace primer::ops
