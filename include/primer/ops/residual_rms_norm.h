#pragma once
// The pre-norm residual step fused: sum = x + residual, normalized = rms_norm(sum, gamma, eps), in one pass
// over the rows instead of two (one read of x and residual, one write of each result). Both results are
// differentiable; the gradient reaching sum adds to the one through normalized, as for the unfused pair.
#include "primer/autograd/variable.h"

namespace primer::ops {

struct ResidualNorm {
  Variable sum;
  Variable normalized;
};

ResidualNorm residual_rms_norm(const Variable& x, const Variable& residual, const Variable& gamma,
                               double eps);

}  // namespace primer::ops
