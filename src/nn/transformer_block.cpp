#include "primer/nn/transformer_block.h"

#include "primer/ops/elementwise.h"

namespace primer::nn {

TransformerBlock::TransformerBlock(const TransformerBlockOptions& options, Generator& generator)
    : placement_(options.placement),
      attention_norm_(options.norm, options.attention.d_model, options.norm_eps),
      attention_(options.attention, generator),
      ffn_norm_(options.norm, options.attention.d_model, options.norm_eps),
      ffn_(options.feed_forward, generator) {
  register_module("attention_norm", attention_norm_);
  register_module("attention", attention_);
  register_module("ffn_norm", ffn_norm_);
  register_module("ffn", ffn_);
}

Variable TransformerBlock::operator()(const Variable& x, const ops::RelativeBias& position_bias) const {
  return add_feed_forward(x, attention_(attention_norm_(x), position_bias));
}

Variable TransformerBlock::extend(const Variable& x, const std::vector<AttentionCache*>& caches,
                                  const std::vector<std::int64_t>& lengths,
                                  const std::vector<ops::RelativeBias>& position_biases) const {
  return add_feed_forward(x, attention_.extend(attention_norm_(x), caches, lengths, position_biases));
}

Variable TransformerBlock::add_feed_forward(const Variable& x, const Variable& attention_out) const {
  if (placement_ == NormPlacement::pre) {
    const ops::ResidualNorm after_attention = ffn_norm_.add_and_normalize(x, attention_out);
    return ops::add(after_attention.sum, ffn_(after_attention.normalized));
  }
  const Variable after_attention = ops::add(x, attention_out);
  return ops::add(after_attention, ffn_norm_(ffn_(after_attention)));
}

}  // namespace primer::nn
