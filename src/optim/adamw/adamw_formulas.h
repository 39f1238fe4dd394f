#pragma once
// AdamW as PyTorch defines it (decoupled weight decay, bias-corrected moments), written once: the host
// turns a step into constants (adamw_constants), and the CPU loop and the CUDA kernel apply the same
// per-element update to parameter, moment and second moment. C++17, for nvcc.
#include <cmath>
#include <cstdint>

#include "primer/core/host_device.h"

namespace primer::optim {

struct AdamWStep {
  double lr;
  double beta1;
  double beta2;
  double eps;
  double weight_decay;
  std::int64_t step;      // >= 1
  double gradient_scale;  // the gradient is taken times this (the clipping factor)
};

template <class T>
struct AdamWConstants {
  T beta1, beta2, eps;
  T decay;             // 1 - lr * weight_decay
  T step_size;         // lr / (1 - beta1^step)
  T correction2_sqrt;  // sqrt(1 - beta2^step)
  T gradient_scale;
};

// `decay`: whether step.weight_decay applies to the parameter at hand.
template <class T>
AdamWConstants<T> adamw_constants(const AdamWStep& step, bool decay) {
  const T correction1 = static_cast<T>(1.0 - std::pow(step.beta1, static_cast<double>(step.step)));
  return {static_cast<T>(step.beta1),
          static_cast<T>(step.beta2),
          static_cast<T>(step.eps),
          static_cast<T>(1.0 - step.lr * (decay ? step.weight_decay : 0.0)),
          static_cast<T>(step.lr) / correction1,
          static_cast<T>(std::sqrt(1.0 - std::pow(step.beta2, static_cast<double>(step.step)))),
          static_cast<T>(step.gradient_scale)};
}

// The gradient is scaled as a pass of its own would (the same rounding), so a clipped step is the step
// on gradients clipped beforehand, bit for bit; times 1 it is unchanged.
template <class T>
PRIMER_HOST_DEVICE void adamw_update_element(T& param, T raw_grad, T& m, T& v, AdamWConstants<T> k) {
  const T grad = k.gradient_scale * raw_grad;
  m = k.beta1 * m + (T(1) - k.beta1) * grad;
  v = k.beta2 * v + (T(1) - k.beta2) * grad * grad;
  param = param * k.decay - k.step_size * m / (std::sqrt(v) / k.correction2_sqrt + k.eps);
}

}  // namespace primer::optim
