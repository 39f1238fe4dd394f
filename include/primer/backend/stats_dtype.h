#pragma once
// The dtype of statistics an op saves for its backward (mean, rstd, log-sum-exp) and of loss values:
// f64 for f64 inputs (the gradient checks), f32 otherwise, bf16 included.
#include "primer/tensor/dtype.h"

namespace primer {

constexpr DType stats_dtype(DType input) {
  return input == DType::f64 ? DType::f64 : DType::f32;
}

}  // namespace primer
