#include "primer/nn/layers.h"

#include "primer/ops/causal_dconv.h"
#include "primer/ops/elementwise.h"
#include "primer/ops/embedding.h"
#include "primer/ops/linear.h"
#include "primer/ops/normalization.h"

namespace primer::nn {

Linear::Linear(std::int64_t in, std::int64_t out, bool bias, double init_std, Generator& generator) {
  weight_ =
      register_parameter("weight", randn({out, in}, DType::f32, generator, init_std), ParameterRole::dense);
  if (bias)
    bias_ = register_parameter("bias", Tensor::zeros({out}, DType::f32), ParameterRole::scale_or_bias);
}

Variable Linear::operator()(const Variable& x, ops::LinearOutput output) const {
  return ops::linear(x, weight_, bias_, output);
}

Variable Linear::operator()(const Variable& x, Activation activation) const {
  return ops::linear_activation(x, weight_, bias_, activation);
}

Norm::Norm(NormKind kind, std::int64_t width, double eps) : kind_(kind), eps_(eps) {
  scale_ = register_parameter("weight", Tensor::full({width}, 1.0, DType::f32), ParameterRole::scale_or_bias);
  if (kind == NormKind::layer_norm)
    bias_ = register_parameter("bias", Tensor::zeros({width}, DType::f32), ParameterRole::scale_or_bias);
}

Variable Norm::operator()(const Variable& x) const {
  return kind_ == NormKind::layer_norm ? ops::layer_norm(x, scale_, bias_, eps_)
                                       : ops::rms_norm(x, scale_, eps_);
}

ops::ResidualNorm Norm::add_and_normalize(const Variable& x, const Variable& addend) const {
  if (kind_ == NormKind::rms_norm) return ops::residual_rms_norm(x, addend, scale_, eps_);
  const Variable sum = ops::add(x, addend);
  return {sum, (*this)(sum)};
}

Embedding::Embedding(std::int64_t rows, std::int64_t width, double init_std, Generator& generator) {
  weight_ = register_parameter("weight", randn({rows, width}, DType::f32, generator, init_std),
                               ParameterRole::table);
}

Variable Embedding::operator()(const Tensor& ids) const {
  return ops::embedding(weight_, ids);
}

CausalDConv::CausalDConv(std::int64_t channels) {
  Tensor taps = Tensor::empty({3, channels}, DType::f32);
  taps.slice(0, 0, 1).fill(0.5);
  taps.slice(0, 1, 3).fill(0.5 / 3.0);
  weight_ = register_parameter("weight", taps, ParameterRole::convolution_taps);
}

Variable CausalDConv::operator()(const Variable& x) const {
  return ops::causal_dconv(x, weight_);
}

Variable CausalDConv::extend(const Variable& x, const std::vector<Tensor*>& histories) const {
  const Tensor& input = x.value();
  const std::int64_t batch = input.size(0), time = input.size(1);
  PRIMER_CHECK(static_cast<std::int64_t>(histories.size()) == batch, "dconv: {} histories for a batch of {}",
               histories.size(), batch);
  // The convolution over [history, x] reproduces, position for position, the one over the whole sequence.
  const Tensor extended = Tensor::empty({batch, time + 2, input.size(2)}, input.dtype(), input.device());
  for (std::int64_t b = 0; b < batch; ++b)
    extended.slice(0, b, b + 1).slice(1, 0, 2).copy_from(*histories[b]);
  extended.slice(1, 2, time + 2).copy_from(input);
  const Tensor y = ops::causal_dconv(Variable(extended), weight_).value();
  for (std::int64_t b = 0; b < batch; ++b) {
    histories[b]->copy_from(extended.slice(0, b, b + 1).slice(1, time, time + 2));
  }
  return Variable(y.slice(1, 2, time + 2));
}

}  // namespace primer::nn
