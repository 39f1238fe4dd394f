#pragma once
// Causal multi-head attention, in the three forms the model zoo needs (AttentionOptions::dconv):
//  none       q, k, v = x Wq, x Wk, x Wv
//  separate   Multi-DConv-Head Attention (Primer-EZ): a causal depthwise convolution after each projection
//  shared_qk  full Primer: k = dconv(x Wqk), q = k M, v = dconv(x Wv)
// Rotary embeddings, when chosen, turn q and k after the convolutions; a T5 bias comes in from outside.
#include <optional>
#include <vector>

#include "primer/nn/layers.h"
#include "primer/ops/attention.h"

namespace primer::nn {

// What one layer keeps of one sequence between decoding steps: keys and values as attention reads them
// (after the convolutions and rotary), and for MDHA the pre-convolution projections of the last two
// positions, one [1, 2, width] tensor per convolution, since each new position's convolution needs them.
// Causal depthwise convolutions after the projections: none; one per Q, K, V (Primer-EZ); a shared Q/K
// representation, K = dconv(W x) and Q = K M, plus V's own (full Primer).
enum class DConvMode { none, separate, shared_qk };

struct AttentionOptions {
  std::int64_t d_model = 0;
  std::int64_t heads = 0;
  std::int64_t head_dim = 0;
  DConvMode dconv = DConvMode::none;
  // true: 1/sqrt(head_dim) folded into the query's initial weights (Mesh-TF), logits unscaled.
  bool fold_scale = true;
  std::optional<double> rotary_base;  // rotary embeddings on Q and K when set
};

struct AttentionCache {
  Tensor keys, values;  // [1, capacity, H, D]; positions 0 .. length-1 are filled
  std::vector<Tensor> conv_history;
};

class Attention : public Module {
 public:
  Attention(const AttentionOptions& options, Generator& generator);
  // x: [B, T, d_model]; position_bias: for T keys, or undefined. Returns [B, T, d_model].
  Variable operator()(const Variable& x, const ops::RelativeBias& position_bias) const;

  AttentionCache new_cache(std::int64_t capacity, Device device) const;
  // Continues B sequences (no gradients): x: [B, T, d_model] holds the next T positions of sequence b,
  // which already has lengths[b] positions in caches[b]; position_biases[b]: for lengths[b] + T keys, or
  // undefined. Appends to the caches and returns [B, T, d_model], equal to the full forward's rows.
  Variable extend(const Variable& x, const std::vector<AttentionCache*>& caches,
                  const std::vector<std::int64_t>& lengths,
                  const std::vector<ops::RelativeBias>& position_biases) const;

 private:
  struct Projections {
    Variable q, k, v;  // [B, T, width], after the convolutions, before rotary
  };
  // With caches, the convolutions continue each cached sequence; without, they start at position 0.
  Projections project(const Variable& x, const std::vector<AttentionCache*>* caches) const;
  Variable convolve(const CausalDConv& dconv, std::size_t index, const Variable& x,
                    const std::vector<AttentionCache*>* caches) const;
  // The training forward's attention over x's projections: [B, T, H, D].
  Variable attend(const Variable& x, const ops::RelativeBias& position_bias) const;
  Variable split_heads(const Variable& x) const;  // [B, T, width] -> [B, T, H, D]
  // split_heads, then rotary for positions position_offset, position_offset + 1, ... when configured.
  Variable rotate(const Variable& x, std::int64_t position_offset) const;
  std::size_t convolution_count() const;

  std::int64_t heads_;
  std::int64_t head_dim_;
  double scale_;
  std::optional<double> rotary_base_;
  std::optional<Linear> q_proj_, k_proj_, qk_proj_, q_mix_, v_proj_, o_proj_;
  std::optional<CausalDConv> q_dconv_, k_dconv_, qk_dconv_, v_dconv_;
};

}  // namespace primer::nn
