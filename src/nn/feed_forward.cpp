#include "primer/nn/feed_forward.h"

#include <cmath>

#include "primer/ops/activation.h"

namespace primer::nn {

FeedForward::FeedForward(const ModelConfig& config, Generator& generator) : kind_(config.feed_forward) {
  const double in_std = 1.0 / std::sqrt(static_cast<double>(config.d_model));
  const double out_std = 1.0 / std::sqrt(static_cast<double>(config.d_ff));
  if (kind_ == FeedForwardKind::swiglu) {
    register_module("gate_proj",
                    gate_proj_.emplace(config.d_model, config.d_ff, config.ffn_bias, in_std, generator));
    register_module("up_proj",
                    up_proj_.emplace(config.d_model, config.d_ff, config.ffn_bias, in_std, generator));
  } else {
    register_module("in_proj",
                    in_proj_.emplace(config.d_model, config.d_ff, config.ffn_bias, in_std, generator));
  }
  register_module("out_proj",
                  out_proj_.emplace(config.d_ff, config.d_model, config.ffn_bias, out_std, generator));
}

Variable FeedForward::operator()(const Variable& x) const {
  switch (kind_) {
    case FeedForwardKind::relu: return (*out_proj_)(ops::relu((*in_proj_)(x)));
    case FeedForwardKind::gelu: return (*out_proj_)(ops::gelu((*in_proj_)(x)));
    case FeedForwardKind::squared_relu: return (*out_proj_)(ops::squared_relu((*in_proj_)(x)));
    case FeedForwardKind::swiglu: return (*out_proj_)(ops::swiglu((*gate_proj_)(x), (*up_proj_)(x)));
  }
  PRIMER_FAIL("unknown feed-forward kind");
}

}  // namespace primer::nn
