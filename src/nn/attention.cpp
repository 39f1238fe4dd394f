#include "primer/nn/attention.h"

#include <cmath>

#include "primer/ops/attention.h"
#include "primer/ops/elementwise.h"
#include "primer/ops/rotary.h"

namespace primer::nn {

Attention::Attention(const ModelConfig& config, Generator& generator)
    : heads_(config.num_heads), head_dim_(config.head_dim), scale_(config.attention_scale()) {
  const std::int64_t width = config.qkv_width();
  const double input_std = 1.0 / std::sqrt(static_cast<double>(config.d_model));
  // Mesh-TF folds 1/sqrt(head_dim) into the initial query weights instead of scaling the logits.
  const double query_fold =
      config.fold_attention_scale ? 1.0 / std::sqrt(static_cast<double>(head_dim_)) : 1.0;
  if (config.position == PositionKind::rotary) rotary_base_ = config.rotary_base;

  if (config.dconv == DConvMode::shared_qk) {
    register_module("qk_proj", qk_proj_.emplace(config.d_model, width, false, input_std, generator));
    register_module("qk_dconv", qk_dconv_.emplace(width));
    const double mix_std = query_fold / std::sqrt(static_cast<double>(width));
    register_module("q_mix", q_mix_.emplace(width, width, false, mix_std, generator));
  } else {
    register_module("q_proj",
                    q_proj_.emplace(config.d_model, width, false, input_std * query_fold, generator));
    register_module("k_proj", k_proj_.emplace(config.d_model, width, false, input_std, generator));
  }
  register_module("v_proj", v_proj_.emplace(config.d_model, width, false, input_std, generator));
  if (config.dconv == DConvMode::separate) {
    register_module("q_dconv", q_dconv_.emplace(width));
    register_module("k_dconv", k_dconv_.emplace(width));
  }
  if (config.dconv != DConvMode::none) register_module("v_dconv", v_dconv_.emplace(width));
  register_module("o_proj", o_proj_.emplace(width, config.d_model, false,
                                            1.0 / std::sqrt(static_cast<double>(width)), generator));
}

Variable Attention::split_heads(const Variable& x) const {
  Variable heads = ops::reshape(x, {x.size(0), x.size(1), heads_, head_dim_});
  return rotary_base_ ? ops::rotary(heads, 0, *rotary_base_) : heads;
}

Variable Attention::operator()(const Variable& x, const Variable& position_bias) const {
  Variable q, k;
  if (qk_proj_) {
    k = (*qk_dconv_)((*qk_proj_)(x));
    q = (*q_mix_)(k);
  } else {
    q = (*q_proj_)(x);
    k = (*k_proj_)(x);
    if (q_dconv_) {
      q = (*q_dconv_)(q);
      k = (*k_dconv_)(k);
    }
  }
  Variable v = (*v_proj_)(x);
  if (v_dconv_) v = (*v_dconv_)(v);
  const Variable heads_v = ops::reshape(v, {x.size(0), x.size(1), heads_, head_dim_});
  const Variable attended =
      ops::causal_attention(split_heads(q), split_heads(k), heads_v, position_bias, scale_);
  return (*o_proj_)(ops::reshape(attended, {x.size(0), x.size(1), heads_ * head_dim_}));
}

}  // namespace primer::nn
