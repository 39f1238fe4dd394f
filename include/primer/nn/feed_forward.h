#pragma once
// The position-wise feed-forward sublayer: out(act(in(x))) for ReLU, GELU and squared ReLU, or
// out(silu(gate(x)) * up(x)) for SwiGLU (whose d_ff configs set to 2/3 of the others' for equal size).
#include <optional>

#include "primer/nn/layers.h"

namespace primer::nn {

enum class FeedForwardKind { relu, gelu, swiglu, squared_relu };

struct FeedForwardOptions {
  FeedForwardKind kind = FeedForwardKind::squared_relu;
  std::int64_t d_model = 0;
  std::int64_t d_ff = 0;
  bool bias = true;
};

class FeedForward : public Module {
 public:
  FeedForward(const FeedForwardOptions& options, Generator& generator);
  Variable operator()(const Variable& x) const;

 private:
  FeedForwardKind kind_;
  std::optional<Linear> in_proj_, gate_proj_, up_proj_, out_proj_;
};

}  // namespace primer::nn
