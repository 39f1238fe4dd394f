#pragma once
// Optimizers over a model's named parameters: AdamW (PyTorch's) and Adafactor (Mesh-TF's, the paper's
// recipe). Each is a slice like an op (src/optim/<name>/: the class owning the state, which it exposes by
// name for checkpoints; the update's formulas shared by the CPU loop and the CUDA kernel; a kernel per
// device found through a KernelTable).
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "primer/nn/module.h"

namespace primer::optim {

struct AdamWOptions {
  double beta1 = 0.9;
  double beta2 = 0.95;
  double eps = 1e-8;
  double weight_decay = 0.1;  // only on matrices that are not embeddings (see decays_by_default)
};

struct AdafactorOptions {
  double decay_exponent = 0.8;  // beta2 at step t is 1 - t^-decay_exponent
  double epsilon1 = 1e-30;
  double epsilon2 = 1e-3;
  double clip_threshold = 1.0;
  bool relative_step = true;  // scale the learning rate by max(epsilon2, RMS(parameter))
};

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  // Updates every parameter that has a gradient, at learning rate lr, taking the gradients times
  // gradient_scale (clip_factor's). AdamW multiplies each gradient as its update reads it, so clipping
  // costs no pass of its own (the gradients stay as they were); Adafactor scales them first.
  virtual void step(double lr, double gradient_scale) = 0;
  // State tensors by name ("<parameter>.<moment>", and "step"), and their restoration; a missing or
  // misshapen tensor is an error naming it.
  virtual std::vector<std::pair<std::string, Tensor>> state() const = 0;
  virtual void load_state(const std::map<std::string, Tensor>& state) = 0;
  std::int64_t steps_taken() const { return steps_; }

 protected:
  std::int64_t steps_ = 0;
};

// Weight decay by default: dense weights only, not embeddings, the position-bias table, norms, biases or
// convolution taps.
bool decays_by_default(const nn::NamedParameter& parameter);

// Mesh-TF's rule (`min_dim_size_to_factor`): Adafactor keeps factored second moments for a tensor only
// when its two largest dimensions are both at least 128; smaller ones keep a full second moment.
constexpr std::int64_t kAdafactorMinDimToFactor = 128;
bool adafactor_factors(const Shape& shape);

std::unique_ptr<Optimizer> make_adamw(std::vector<nn::NamedParameter> parameters,
                                      const AdamWOptions& options);
std::unique_ptr<Optimizer> make_adafactor(std::vector<nn::NamedParameter> parameters,
                                          const AdafactorOptions& options);

// The sum of the squares of every gradient (NaN or Inf when one is not finite). Apart from the clipping
// so that data-parallel ranks holding a share each can add their sums into the global norm.
double gradient_squares(const std::vector<nn::NamedParameter>& parameters);
// The factor clipping scales the gradients by: max_norm / norm when their global L2 norm `norm` exceeds
// max_norm, else 1 (max_norm 0: no clipping; a non-finite norm, which the caller refuses, gives 1).
double clip_factor(double norm, double max_norm);

}  // namespace primer::optim
