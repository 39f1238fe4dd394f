#include "primer/optim/optimizer.h"

#include <cmath>

#include "primer/backend/backend.h"
#include "primer/backend/op_profiler.h"

namespace primer::optim {

bool decays_by_default(const nn::NamedParameter& parameter) {
  return parameter.role == nn::ParameterRole::dense;
}

double gradient_squares(const std::vector<nn::NamedParameter>& parameters) {
  std::vector<Tensor> grads;
  for (const nn::NamedParameter& parameter : parameters) {
    if (parameter.variable.grad().defined()) grads.push_back(parameter.variable.grad());
  }
  if (grads.empty()) return 0.0;
  const Device device = grads.front().device();
  const DType stats = stats_dtype(grads.front().dtype());
  const ProfileScope profile("gradient norm", device);
  for (const Tensor& grad : grads) {
    PRIMER_CHECK(grad.device() == device && stats_dtype(grad.dtype()) == stats,
                 "gradient norm: the gradient {} is not on {} in a dtype of {} statistics", grad.describe(),
                 device.name(), dtype_name(stats));
  }
  // One slot per gradient, added up on the device in a fixed order and read back once: reading each
  // parameter's sum would wait for the device once per parameter (a hundred times a step on a GPU).
  const Tensor slots = Tensor::empty({static_cast<std::int64_t>(grads.size())}, stats, device);
  Backend& backend = backend_for(device);
  backend.sum_squares_each(grads, slots);
  const Tensor total = Tensor::empty({1}, stats, device);
  backend.sum(slots, total);
  return total.item();
}

double clip_factor(double norm, double max_norm) {
  return max_norm <= 0.0 || !std::isfinite(norm) || norm <= max_norm ? 1.0 : max_norm / norm;
}

}  // namespace primer::optim
