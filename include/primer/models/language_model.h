#pragma once
// The decoder-only language model every variant shares: token embedding (+ learned positions), a stack of
// TransformerBlocks (+ one T5 relative bias table for the stack), a final norm, and logits through the
// tied embedding scaled by d_model^-0.5 (T5) or a separate head. The whole forward pass is logits(); loss()
// runs the same pass with the projection fused into the cross-entropy (ops::linear_cross_entropy), so a
// training step never holds the [B * T, vocab] logits.
#include <memory>
#include <optional>
#include <vector>

#include "primer/models/decode_state.h"
#include "primer/models/model_config.h"
#include "primer/nn/layers.h"
#include "primer/nn/relative_position_bias.h"
#include "primer/nn/transformer_block.h"

namespace primer {

class LanguageModel : public nn::Module {
 public:
  // Parameters are drawn from config.init_seed in registration order: the same seed, the same model.
  explicit LanguageModel(const ModelConfig& config);

  // ids: i32 [B, T] with T <= max_seq_len. Returns logits [B * T, vocab_size].
  Variable logits(const Tensor& ids) const;
  // Mean next-token cross-entropy (+ z_loss * logsumexp^2) of logits(ids) against targets [B, T] (on any
  // device; the host's are best, ops::linear_cross_entropy counts them there); z_part, when given,
  // receives the z-loss term.
  Variable loss(const Tensor& ids, const Tensor& targets, double z_loss, double* z_part = nullptr) const;

  // Incremental decoding. A fresh state for one sequence, with room for max_seq_len tokens.
  DecodeState new_decode_state() const;
  // Feeds ids: i32 [B, T] as the next T tokens of the sequences states[b] (each at its own length) and
  // appends to their caches. Returns logits [B * T, vocab_size], equal to those logits() gives over each
  // whole sequence at the same positions. No gradients are recorded.
  Tensor extend(const Tensor& ids, const std::vector<DecodeState*>& states) const;

  const ModelConfig& config() const { return config_; }

  // Weights as safetensors, keyed by parameter name (docs/models.md lists them).
  void save_weights(const std::string& path) const;
  // Loads every parameter; a missing, extra or wrongly shaped tensor is an error naming it and the file.
  void load_weights(const std::string& path);

 private:
  // Token (+ learned position) embeddings; sequence b starts at position first_positions[b].
  Variable embed(const Tensor& ids, const std::vector<std::int64_t>& first_positions) const;
  // The last block's output [B, T, d_model] for ids [B, T].
  Variable hidden(const Tensor& ids) const;
  // Final norm (and the T5 logit scale): [B, T, d_model] -> rows [B * T, d_model] ready for the projection.
  Variable final_rows(const Variable& x) const;
  // The output projection's weight [vocab, d_model]: the head's, or the tied embedding.
  const Variable& vocabulary_weight() const;
  // final_rows and the projection: [B, T, d_model] -> [B * T, vocab].
  Variable project_to_vocabulary(const Variable& x) const;

  ModelConfig config_;
  Generator generator_;
  nn::Embedding token_embedding_;
  std::optional<nn::Embedding> position_embedding_;
  std::optional<nn::RelativePositionBias> relative_bias_;
  std::vector<std::unique_ptr<nn::TransformerBlock>> layers_;
  nn::Norm final_norm_;
  std::optional<nn::Linear> lm_head_;
};

}  // namespace primer
