#pragma once
// RMSNorm of one row on the CPU, the loop rms_norm and the fused residual_rms_norm both run, so the two
// give the same bits: y = x / sqrt(mean(x^2) + eps) * gamma, computed in S; returns 1 / sqrt(...).
#include <cmath>
#include <cstdint>

#include "primer/tensor/dtype.h"

namespace primer::cpu {

template <class T, class S = compute_type<T>>
S rms_norm_row(const T* x, const T* gamma, std::int64_t width, double eps, T* y) {
  // Summed across vector lanes (a fixed order for a given width): a sequential sum is bound by the
  // adder's latency, one element at a time.
  S squares = 0;
#pragma omp simd reduction(+ : squares)
  for (std::int64_t c = 0; c < width; ++c) squares += S(x[c]) * S(x[c]);
  const S inverse = S(1) / std::sqrt(squares / S(width) + S(eps));
#pragma omp simd
  for (std::int64_t c = 0; c < width; ++c) y[c] = static_cast<T>(S(x[c]) * inverse * S(gamma[c]));
  return inverse;
}

}  // namespace primer::cpu
