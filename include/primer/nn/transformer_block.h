#pragma once
// One decoder layer: attention then feed-forward, each in a residual branch. With pre-norm placement
// both branches read norm(x); Primer's placement keeps the attention branch pre-norm and normalises the
// feed-forward branch's output instead: x + attn(norm(x)), then x + norm(ffn(x)).
#include "primer/nn/attention.h"
#include "primer/nn/feed_forward.h"

namespace primer::nn {

// pre: x + f(norm(x)) everywhere. primer: attention pre-norm, feed-forward post-norm x + norm(ffn(x)).
enum class NormPlacement { pre, primer };

struct TransformerBlockOptions {
  NormKind norm = NormKind::layer_norm;
  NormPlacement placement = NormPlacement::pre;
  double norm_eps = 1e-6;
  AttentionOptions attention;
  FeedForwardOptions feed_forward;
};

class TransformerBlock : public Module {
 public:
  TransformerBlock(const TransformerBlockOptions& options, Generator& generator);
  Variable operator()(const Variable& x, const ops::RelativeBias& position_bias) const;
  // The same layer continuing cached sequences (Attention::extend).
  Variable extend(const Variable& x, const std::vector<AttentionCache*>& caches,
                  const std::vector<std::int64_t>& lengths,
                  const std::vector<ops::RelativeBias>& position_biases) const;
  const Attention& attention() const { return attention_; }

 private:
  Variable add_feed_forward(const Variable& x, const Variable& attention_out) const;

  NormPlacement placement_;
  Norm attention_norm_;
  Attention attention_;
  Norm ffn_norm_;
  FeedForward ffn_;
};

}  // namespace primer::nn
