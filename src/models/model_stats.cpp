#include "primer/models/model_stats.h"

namespace primer {

double ModelStats::training_flops_per_token(std::int64_t seq_len, std::int64_t num_layers,
                                            std::int64_t qkv_width) const {
  return 6.0 * static_cast<double>(matmul_parameters) + 6.0 * static_cast<double>(num_layers) *
                                                            static_cast<double>(seq_len) *
                                                            static_cast<double>(qkv_width);
}

ModelStats model_stats(const ModelConfig& c) {
  const std::int64_t width = c.qkv_width();
  const std::int64_t norm = c.norm == NormKind::layer_norm ? 2 * c.d_model : c.d_model;

  std::int64_t attention_matmul = 0;
  std::int64_t dconv = 0;
  if (c.dconv == DConvMode::shared_qk) {
    attention_matmul = 2 * c.d_model * width + width * width + width * c.d_model;  // qk, v, q_mix, o
    dconv = 2 * 3 * width;
  } else {
    attention_matmul = 3 * c.d_model * width + width * c.d_model;
    dconv = c.dconv == DConvMode::separate ? 3 * 3 * width : 0;
  }
  const std::int64_t ffn_projections = c.feed_forward == FeedForwardKind::swiglu ? 3 : 2;
  const std::int64_t ffn_matmul = ffn_projections * c.d_model * c.d_ff;
  const std::int64_t ffn_bias = c.ffn_bias ? (ffn_projections - 1) * c.d_ff + c.d_model : 0;
  const std::int64_t per_layer = attention_matmul + dconv + ffn_matmul + ffn_bias + 2 * norm;

  ModelStats stats;
  const std::int64_t token_embedding = c.vocab_size * c.d_model;
  const std::int64_t position_embedding = c.position == PositionKind::learned ? c.max_seq_len * c.d_model : 0;
  const std::int64_t head = c.tie_embeddings ? 0 : c.d_model * c.vocab_size;
  const std::int64_t relative_bias =
      c.position == PositionKind::t5_bias ? c.relative_buckets * c.num_heads : 0;
  stats.embedding_parameters = token_embedding + position_embedding + head;
  stats.matmul_parameters = c.num_layers * (attention_matmul + ffn_matmul) + c.d_model * c.vocab_size;
  stats.parameters = stats.embedding_parameters + relative_bias + c.num_layers * per_layer + norm;
  return stats;
}

double training_flops_per_token(const ModelConfig& config, std::int64_t seq_len) {
  return model_stats(config).training_flops_per_token(seq_len, config.num_layers, config.qkv_width());
}

}  // namespace primer
