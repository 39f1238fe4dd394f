#pragma once
// Normalisation over the last dimension.
#include "primer/autograd/variable.h"

namespace primer::ops {

// (x - mean) / sqrt(var + eps) * gamma (+ beta). beta may be undefined.
Variable layer_norm(const Variable& x, const Variable& gamma, const Variable& beta, double eps);
// x / sqrt(mean(x^2) + eps) * gamma.
Variable rms_norm(const Variable& x, const Variable& gamma, double eps);

}  // namespace primer::ops
