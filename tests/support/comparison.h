#pragma once
// How tests compare tensors with references: the relative error of the whole tensor,
// |actual - expected| / |expected| in the Euclidean norm, as llm.c and PyTorch's own tests do.
#include <algorithm>
#include <cmath>

#include "primer/tensor/tensor.h"

namespace primer::testing {

inline double relative_error(const Tensor& actual, const Tensor& expected) {
  const std::vector<double> a = actual.to_vector<double>(), e = expected.to_vector<double>();
  double difference = 0.0, norm = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    difference += (a[i] - e[i]) * (a[i] - e[i]);
    norm += e[i] * e[i];
  }
  return std::sqrt(difference) / std::max(std::sqrt(norm), 1e-300);
}

}  // namespace primer::testing
