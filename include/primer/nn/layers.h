#pragma once
// The small layers every model is built from: Linear, Norm (LayerNorm or RMSNorm), Embedding and the
// causal depthwise convolution of Multi-DConv-Head Attention. Initialisation follows Mesh-TF, the code
// the Primer paper used (docs/models.md).
#include "primer/nn/module.h"
#include "primer/ops/activation_kind.h"
#include "primer/ops/linear.h"
#include "primer/ops/residual_rms_norm.h"
#include "primer/tensor/random.h"

namespace primer::nn {

enum class NormKind { layer_norm, rms_norm };

// y = x W^T (+ b), W: [out, in] drawn from N(0, init_std^2); b starts at 0.
class Linear : public Module {
 public:
  Linear(std::int64_t in, std::int64_t out, bool bias, double init_std, Generator& generator);
  Variable operator()(const Variable& x, ops::LinearOutput output = ops::LinearOutput::any_reader) const;
  // activation(this(x)) fused, for relu and squared_relu (ops::linear_activation).
  Variable operator()(const Variable& x, Activation activation) const;
  const Variable& weight() const { return weight_; }

 private:
  Variable weight_;
  Variable bias_;
};

// LayerNorm (scale and bias) or RMSNorm (scale only) over the last dimension.
class Norm : public Module {
 public:
  Norm(NormKind kind, std::int64_t width, double eps);
  Variable operator()(const Variable& x) const;
  // The pre-norm residual step: sum = x + addend and this norm of it; fused for RMSNorm.
  ops::ResidualNorm add_and_normalize(const Variable& x, const Variable& addend) const;

 private:
  NormKind kind_;
  double eps_;
  Variable scale_;
  Variable bias_;
};

class Embedding : public Module {
 public:
  Embedding(std::int64_t rows, std::int64_t width, double init_std, Generator& generator);
  Variable operator()(const Tensor& ids) const;
  const Variable& weight() const { return weight_; }

 private:
  Variable weight_;
};

// Per-channel causal width-3 convolution along time, [B, T, C] -> [B, T, C]. Starts as the constant
// kernel (0.5, 0.5/3, 0.5/3) with 0.5 on the current position, as in the official Primer code.
class CausalDConv : public Module {
 public:
  explicit CausalDConv(std::int64_t channels);
  Variable operator()(const Variable& x) const;
  // Continues B sequences by x: [B, T, C] (no gradients). histories[b]: [1, 2, C], sequence b's inputs at
  // its last two positions (zeros before its start), updated to the new last two.
  Variable extend(const Variable& x, const std::vector<Tensor*>& histories) const;
  const Variable& weight() const { return weight_; }  // taps [3, C], tap 0 on the current position

 private:
  Variable weight_;
};

}  // namespace primer::nn
