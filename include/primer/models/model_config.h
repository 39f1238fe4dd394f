#pragma once
// The model section of a config. `variant` presets the switches that define vanilla, gelu,
// transformer++, primer_ez and primer (docs/models.md); each switch can also be set on its own, so an
// ablation such as "vanilla with squared ReLU" is a YAML change.
#include <cstdint>
#include <string>

#include "primer/config/config_node.h"
#include "primer/nn/transformer_block.h"

namespace primer {

// The layers' switches, which the model section sets by name.
using nn::DConvMode;
using nn::FeedForwardKind;
using nn::NormKind;
using nn::NormPlacement;
enum class PositionKind { t5_bias, rotary, learned, none };

struct ModelConfig {
  std::string variant = "primer_ez";
  std::int64_t vocab_size = 0;
  std::int64_t d_model = 0;
  std::int64_t num_layers = 0;
  std::int64_t num_heads = 0;
  std::int64_t head_dim = 0;  // d_model / num_heads unless given
  std::int64_t d_ff = 0;
  std::int64_t max_seq_len = 0;

  FeedForwardKind feed_forward = FeedForwardKind::squared_relu;
  NormKind norm = NormKind::layer_norm;
  NormPlacement norm_placement = NormPlacement::pre;
  DConvMode dconv = DConvMode::separate;
  PositionKind position = PositionKind::t5_bias;
  bool ffn_bias = true;
  bool tie_embeddings = true;
  bool scale_logits = true;          // final hidden state times d_model^-0.5 before the logits (T5);
                                     // defaults to tie_embeddings
  bool fold_attention_scale = true;  // 1/sqrt(head_dim) folded into Q's initialisation (Mesh-TF)
  double norm_eps = 1e-6;
  std::int64_t relative_buckets = 32;
  std::int64_t relative_max_distance = 128;
  double rotary_base = 10000.0;
  std::int64_t init_seed = 0;

  std::int64_t qkv_width() const { return num_heads * head_dim; }
  // What each transformer block is built from.
  nn::TransformerBlockOptions block_options() const;
};

// Reads and validates a `model:` section; errors name the file, line and key.
ModelConfig read_model_config(const ConfigNode& model);
// Loads a config file, reads its `model:` section and rejects unknown keys in it.
ModelConfig load_model_config(const std::string& path);

std::string to_string(FeedForwardKind kind);
std::string to_string(NormKind kind);
std::string to_string(NormPlacement placement);
std::string to_string(DConvMode mode);
std::string to_string(PositionKind kind);

}  // namespace primer
