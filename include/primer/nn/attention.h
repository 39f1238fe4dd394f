#pragma once
// Causal multi-head attention, in the three forms the model zoo needs (ModelConfig::dconv):
//  none       q, k, v = x Wq, x Wk, x Wv
//  separate   Multi-DConv-Head Attention (Primer-EZ): a causal depthwise convolution after each projection
//  shared_qk  full Primer: k = dconv(x Wqk), q = k M, v = dconv(x Wv)
// Rotary embeddings, when chosen, turn q and k after the convolutions; a T5 bias comes in from outside.
#include <optional>

#include "primer/nn/layers.h"

namespace primer::nn {

class Attention : public Module {
 public:
  Attention(const ModelConfig& config, Generator& generator);
  // x: [B, T, d_model]; position_bias: [H, T, T] or undefined. Returns [B, T, d_model].
  Variable operator()(const Variable& x, const Variable& position_bias) const;

 private:
  Variable split_heads(const Variable& x) const;

  std::int64_t heads_;
  std::int64_t head_dim_;
  double scale_;
  std::optional<double> rotary_base_;
  std::optional<Linear> q_proj_, k_proj_, qk_proj_, q_mix_, v_proj_, o_proj_;
  std::optional<CausalDConv> q_dconv_, k_dconv_, qk_dconv_, v_dconv_;
};

}  // namespace primer::nn
