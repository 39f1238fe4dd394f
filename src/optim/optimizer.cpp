#include "primer/optim/optimizer.h"

#include <cmath>

#include "primer/backend/backend.h"
#include "primer/backend/op_profiler.h"

namespace primer::optim {

bool decays_by_default(const nn::NamedParameter& parameter) {
  return parameter.role == nn::ParameterRole::dense;
}

double gradient_squares(const std::vector<nn::NamedParameter>& parameters) {
  std::vector<const Tensor*> grads;
  for (const nn::NamedParameter& parameter : parameters) {
    if (parameter.variable.grad().defined()) grads.push_back(&parameter.variable.grad());
  }
  if (grads.empty()) return 0.0;
  const Device device = grads.front()->device();
  const DType stats = stats_dtype(grads.front()->dtype());
  const ProfileScope profile("gradient norm", device);
  // One slot per gradient, added up on the device in a fixed order and read back once: reading each
  // parameter's sum would wait for the device once per parameter (a hundred times a step on a GPU).
  const Tensor slots = Tensor::empty({static_cast<std::int64_t>(grads.size())}, stats, device);
  Backend& backend = backend_for(device);
  for (std::size_t i = 0; i < grads.size(); ++i) {
    PRIMER_CHECK(grads[i]->device() == device && stats_dtype(grads[i]->dtype()) == stats,
                 "gradient norm: the gradient {} is not on {} in a dtype of {} statistics",
                 grads[i]->describe(), device.name(), dtype_name(stats));
    const auto slot = static_cast<std::int64_t>(i);
    backend.sum_squares(*grads[i], slots.slice(0, slot, slot + 1));
  }
  const Tensor total = Tensor::empty({1}, stats, device);
  backend.sum(slots, total);
  return total.item();
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
