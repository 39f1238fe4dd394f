#pragma once
// Differentiable arithmetic, reductions to a scalar and shape views.
#include <vector>

#include "primer/autograd/variable.h"

namespace primer::ops {

Variable add(const Variable& a, const Variable& b);
Variable sub(const Variable& a, const Variable& b);
Variable mul(const Variable& a, const Variable& b);
Variable scale(const Variable& x, double factor);
Variable sum(const Variable& x);   // a one-element [1] tensor
Variable mean(const Variable& x);  // likewise

Variable reshape(const Variable& x, const Shape& shape);
Variable transpose(const Variable& x, std::int64_t dim0, std::int64_t dim1);  // returns a contiguous copy
Variable permute(const Variable& x, const std::vector<std::int64_t>& order);  // likewise

}  // namespace primer::ops
