#pragma once
// Adafactor as Mesh-TF defines it (beta1 = 0), written once for the CPU loops and the CUDA kernels:
// second moments factored into row and column means for matrices (whole for vectors), the update
// g / sqrt(v_hat) clipped to RMS clip_threshold, and the learning rate scaled by max(epsilon2, RMS(param))
// when relative_step. Statistics are computed in double on both devices. C++17, for nvcc.
#include <cmath>

#include "primer/core/host_device.h"

namespace primer::optim {

struct AdafactorStep {
  double lr;
  double decay;  // this step's beta2, 1 - step^-0.8 in the paper
  double epsilon1;
  double epsilon2;
  double clip_threshold;
  bool relative_step;
};

// The running mean of squared gradients: state <- decay state + (1 - decay) mean(g^2 + epsilon1).
PRIMER_HOST_DEVICE double adafactor_moment(double decay, double state, double mean_square) {
  return decay * state + (1.0 - decay) * mean_square;
}

// A matrix element's update from the factored moments: g / sqrt(row / mean(rows) * column).
PRIMER_HOST_DEVICE double adafactor_factored_update(double grad, double row, double row_mean, double column) {
  return grad * (1.0 / std::sqrt(row / row_mean)) / std::sqrt(column);
}

// The step applied to every element of the update, from the mean squares of the update and the parameter.
PRIMER_HOST_DEVICE double adafactor_step_size(const AdafactorStep& step, double update_mean_square,
                                              double param_mean_square) {
  const double rms = std::sqrt(update_mean_square) / step.clip_threshold;
  const double clip = rms > 1.0 ? rms : 1.0;
  const double param_rms = std::sqrt(param_mean_square);
  const double scale = step.relative_step ? (param_rms > step.epsilon2 ? param_rms : step.epsilon2) : 1.0;
  return step.lr * scale / clip;
}

}  // namespace primer::optim
