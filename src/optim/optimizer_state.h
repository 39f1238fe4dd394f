#pragma once
// How the optimizers name and restore their state for checkpoints.
#include <map>
#include <string>

#include "primer/tensor/tensor.h"

namespace primer::optim {

inline Tensor step_tensor(std::int64_t steps) {
  return Tensor::full({1}, static_cast<double>(steps), DType::f64);
}

// The state tensor `name`, which must have `shape`; an error naming it otherwise.
inline const Tensor& find_state(const std::map<std::string, Tensor>& state, const std::string& name,
                                const Shape& shape) {
  const auto found = state.find(name);
  PRIMER_CHECK(found != state.end(), "optimizer state has no '{}' (another optimizer or model?)", name);
  PRIMER_CHECK(found->second.shape() == shape, "optimizer state '{}' has shape {}, expected {}", name,
               to_string(found->second.shape()), to_string(shape));
  return found->second;
}

}  // namespace primer::optim
