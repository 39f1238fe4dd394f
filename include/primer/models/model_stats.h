#pragma once
// Sizes and costs computed from a config alone (no model built): what primer-info prints, what MFU and
// the compute-versus-perplexity curves divide by.
#include <cstdint>

#include "primer/models/model_config.h"

namespace primer {

struct ModelStats {
  std::int64_t parameters = 0;            // every trainable scalar
  std::int64_t embedding_parameters = 0;  // token (+ position) embeddings, and an untied head
  std::int64_t matmul_parameters = 0;     // weights that multiply activations, the logits' included
  // Training FLOPs per token at a sequence length: 6 per matmul weight (forward, two backward) plus
  // 6 * layers * seq_len * qkv_width for attention's two T x T products (PaLM's MFU convention).
  double training_flops_per_token(std::int64_t seq_len, std::int64_t num_layers,
                                  std::int64_t qkv_width) const;
};

ModelStats model_stats(const ModelConfig& config);
double training_flops_per_token(const ModelConfig& config, std::int64_t seq_len);

}  // namespace primer
