#include "primer/models/language_model.h"

#include <cmath>
#include <map>

#include "primer/autograd/grad_mode.h"
#include "primer/io/safetensors.h"
#include "primer/ops/cross_entropy.h"
#include "primer/ops/elementwise.h"
#include "primer/ops/linear.h"

namespace primer {
namespace {

// Mesh-TF draws the shared embedding from N(0, 1); the logits' d_model^-0.5 factor keeps them O(1).
constexpr double kEmbeddingStd = 1.0;

Tensor positions_for(const std::vector<std::int64_t>& first_positions, std::int64_t time) {
  const auto batch = static_cast<std::int64_t>(first_positions.size());
  Tensor positions = Tensor::empty({batch, time}, DType::i32);
  std::int32_t* data = positions.data<std::int32_t>();
  for (std::int64_t b = 0; b < batch; ++b) {
    for (std::int64_t t = 0; t < time; ++t) {
      data[b * time + t] = static_cast<std::int32_t>(first_positions[static_cast<std::size_t>(b)] + t);
    }
  }
  return positions;
}

}  // namespace

LanguageModel::LanguageModel(const ModelConfig& config)
    : config_(config),
      generator_(static_cast<std::uint64_t>(config.init_seed)),
      token_embedding_(config.vocab_size, config.d_model, kEmbeddingStd, generator_),
      final_norm_(config.norm, config.d_model, config.norm_eps) {
  register_module("embedding", token_embedding_);
  if (config.position == PositionKind::learned) {
    register_module("position_embedding", position_embedding_.emplace(config.max_seq_len, config.d_model,
                                                                      kEmbeddingStd, generator_));
  }
  if (config.position == PositionKind::t5_bias) {
    // HF's port of T5 initialises the bias table with std d_model^-0.5.
    register_module(
        "relative_bias",
        relative_bias_.emplace(config.relative_buckets, config.relative_max_distance, config.num_heads,
                               1.0 / std::sqrt(static_cast<double>(config.d_model)), generator_));
  }
  for (std::int64_t i = 0; i < config.num_layers; ++i) {
    layers_.push_back(std::make_unique<nn::TransformerBlock>(config.block_options(), generator_));
    register_module("layers." + std::to_string(i), *layers_.back());
  }
  register_module("final_norm", final_norm_);
  if (!config.tie_embeddings) {
    register_module("lm_head",
                    lm_head_.emplace(config.d_model, config.vocab_size, false,
                                     1.0 / std::sqrt(static_cast<double>(config.d_model)), generator_));
  }
}

Variable LanguageModel::embed(const Tensor& ids, const std::vector<std::int64_t>& first_positions) const {
  const Device device = token_embedding_.weight().device();
  Variable x = token_embedding_(ids.to(device));
  if (position_embedding_) {
    x = ops::add(x, (*position_embedding_)(positions_for(first_positions, ids.size(1)).to(device)));
  }
  return x;
}

Variable LanguageModel::final_rows(const Variable& x) const {
  Variable normed = final_norm_(x);
  if (config_.scale_logits)
    normed = ops::scale(normed, 1.0 / std::sqrt(static_cast<double>(config_.d_model)));
  return ops::reshape(normed, {x.size(0) * x.size(1), config_.d_model});
}

const Variable& LanguageModel::vocabulary_weight() const {
  return lm_head_ ? lm_head_->weight() : token_embedding_.weight();
}

Variable LanguageModel::project_to_vocabulary(const Variable& x) const {
  return ops::linear(final_rows(x), vocabulary_weight());
}

Variable LanguageModel::hidden(const Tensor& ids) const {
  PRIMER_CHECK(ids.dim() == 2 && ids.dtype() == DType::i32, "model: ids {} must be i32 [batch, time]",
               ids.describe());
  const std::int64_t batch = ids.size(0), time = ids.size(1);
  PRIMER_CHECK(time <= config_.max_seq_len, "model: sequence of {} tokens exceeds max_seq_len {}", time,
               config_.max_seq_len);
  Variable x = embed(ids, std::vector<std::int64_t>(static_cast<std::size_t>(batch), 0));
  const ops::RelativeBias bias = relative_bias_ ? (*relative_bias_)(time) : ops::RelativeBias{};
  for (const auto& layer : layers_) x = (*layer)(x, bias);
  return x;
}

Variable LanguageModel::logits(const Tensor& ids) const {
  return project_to_vocabulary(hidden(ids));
}

DecodeState LanguageModel::new_decode_state() const {
  DecodeState state;
  for (const auto& layer : layers_) {
    state.layers.push_back(
        layer->attention().new_cache(config_.max_seq_len, token_embedding_.weight().device()));
  }
  return state;
}

Tensor LanguageModel::extend(const Tensor& ids, const std::vector<DecodeState*>& states) const {
  PRIMER_CHECK(ids.dim() == 2 && ids.dtype() == DType::i32, "extend: ids {} must be i32 [batch, time]",
               ids.describe());
  const std::int64_t batch = ids.size(0), time = ids.size(1);
  PRIMER_CHECK(static_cast<std::int64_t>(states.size()) == batch, "extend: {} states for a batch of {}",
               states.size(), batch);
  const NoGradGuard no_grad;
  std::vector<std::int64_t> lengths;
  std::vector<ops::RelativeBias> biases;
  for (const DecodeState* state : states) {
    PRIMER_CHECK(state->layers.size() == layers_.size(), "extend: a state of {} layers for a {}-layer model",
                 state->layers.size(), layers_.size());
    PRIMER_CHECK(state->length + time <= config_.max_seq_len,
                 "extend: {} + {} tokens exceed the context of max_seq_len {}", state->length, time,
                 config_.max_seq_len);
    lengths.push_back(state->length);
    biases.push_back(relative_bias_ ? (*relative_bias_)(state->length + time) : ops::RelativeBias{});
  }
  Variable x = embed(ids, lengths);
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    std::vector<nn::AttentionCache*> caches;
    for (DecodeState* state : states) caches.push_back(&state->layers[i]);
    x = layers_[i]->extend(x, caches, lengths, biases);
  }
  for (DecodeState* state : states) state->length += time;
  return project_to_vocabulary(x).value();
}

Variable LanguageModel::loss(const Tensor& ids, const Tensor& targets, double z_loss, double* z_part) const {
  PRIMER_CHECK(targets.shape() == ids.shape(), "loss: targets {} must match ids {}", targets.describe(),
               ids.describe());
  return ops::linear_cross_entropy(final_rows(hidden(ids)), vocabulary_weight(), targets.reshape({-1}),
                                   z_loss, z_part);
}

void LanguageModel::save_weights(const std::string& path) const {
  std::vector<std::pair<std::string, Tensor>> tensors;
  for (const nn::NamedParameter& parameter : named_parameters()) {
    tensors.emplace_back(parameter.name, parameter.variable.value());
  }
  save_safetensors(path, tensors, {{"format", "primer"}, {"variant", config_.variant}});
}

void LanguageModel::load_weights(const std::string& path) {
  std::map<std::string, Tensor> loaded = load_safetensors(path);
  for (const nn::NamedParameter& parameter : named_parameters()) {
    const auto found = loaded.find(parameter.name);
    PRIMER_CHECK(found != loaded.end(), "{}: no tensor '{}' (is this a {} checkpoint?)", path, parameter.name,
                 config_.variant);
    const Tensor& value = parameter.variable.value();
    PRIMER_CHECK(found->second.shape() == value.shape(), "{}: '{}' has shape {} but the model expects {}",
                 path, parameter.name, to_string(found->second.shape()), to_string(value.shape()));
    value.copy_from(found->second);
    loaded.erase(found);
  }
  PRIMER_CHECK(loaded.empty(), "{}: tensor '{}' is not a parameter of this {} model", path,
               loaded.begin()->first, config_.variant);
}

}  // namespace primer
