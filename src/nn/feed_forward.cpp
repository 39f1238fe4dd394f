#include "primer/nn/feed_forward.h"

#include <cmath>

#include "primer/ops/activation.h"

namespace primer::nn {

FeedForward::FeedForward(const FeedForwardOptions& options, Generator& generator) : kind_(options.kind) {
  const double in_std = 1.0 / std::sqrt(static_cast<double>(options.d_model));
  const double out_std = 1.0 / std::sqrt(static_cast<double>(options.d_ff));
  if (kind_ == FeedForwardKind::swiglu) {
    register_module("gate_proj",
                    gate_proj_.emplace(options.d_model, options.d_ff, options.bias, in_std, generator));
    register_module("up_proj",
                    up_proj_.emplace(options.d_model, options.d_ff, options.bias, in_std, generator));
  } else {
    register_module("in_proj",
                    in_proj_.emplace(options.d_model, options.d_ff, options.bias, in_std, generator));
  }
  register_module("out_proj",
                  out_proj_.emplace(options.d_ff, options.d_model, options.bias, out_std, generator));
}

Variable FeedForward::operator()(const Variable& x) const {
  switch (kind_) {
    // ReLU and squared ReLU run as the projection's epilogue: their output gives their derivative.
    case FeedForwardKind::relu: return (*out_proj_)((*in_proj_)(x, Activation::relu));
    case FeedForwardKind::gelu: return (*out_proj_)(ops::gelu((*in_proj_)(x)));
    case FeedForwardKind::squared_relu: return (*out_proj_)((*in_proj_)(x, Activation::squared_relu));
    // Its gate and up go to the down projection alone, so bf16 products write them in bf16.
    case FeedForwardKind::swiglu:
      return (*out_proj_)(ops::swiglu((*gate_proj_)(x, ops::LinearOutput::next_product),
                                      (*up_proj_)(x, ops::LinearOutput::next_product)));
  }
  PRIMER_FAIL("unknown feed-forward kind");
}

}  // namespace primer::nn
