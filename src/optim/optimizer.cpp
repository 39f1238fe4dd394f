#include "primer/optim/optimizer.h"

#include <cmath>

#include "primer/backend/backend.h"
#include "primer/backend/op_profiler.h"

namespace primer::optim {

bool decays_by_default(const nn::NamedParameter& parameter) {
  return parameter.role == nn::ParameterRole::dense;
}

double gradient_squares(const std::vector<nn::NamedParameter>& parameters) {
  if (parameters.empty()) return 0.0;
  const ProfileScope profile("gradient norm", parameters.front().variable.device());
  double total = 0.0;
  for (const nn::NamedParameter& parameter : parameters) {
    const Tensor& grad = parameter.variable.grad();
    if (!grad.defined()) continue;
    Tensor squares = Tensor::empty({1}, stats_dtype(grad.dtype()), grad.device());
    backend_for(grad.device()).sum_squares(grad, squares);
    total += squares.item();
  }
  return total;
}

void clip_gradients(const std::vector<nn::NamedParameter>& parameters, double norm, double max_norm) {
  if (parameters.empty() || max_norm <= 0.0 || !std::isfinite(norm) || norm <= max_norm) return;
  const ProfileScope profile("gradient clipping", parameters.front().variable.device());
  const double factor = max_norm / norm;
  for (const nn::NamedParameter& parameter : parameters) {
    const Tensor& grad = parameter.variable.grad();
    if (grad.defined()) backend_for(grad.device()).scale(grad, factor, grad);
  }
}

}  // namespace primer::optim
