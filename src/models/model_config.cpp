#include "primer/models/model_config.h"

#include <cmath>
#include <map>

#include "primer/models/variants.h"

namespace primer {
namespace {

const std::map<std::string, FeedForwardKind> kFeedForward{{"relu", FeedForwardKind::relu},
                                                          {"gelu", FeedForwardKind::gelu},
                                                          {"swiglu", FeedForwardKind::swiglu},
                                                          {"squared_relu", FeedForwardKind::squared_relu}};
const std::map<std::string, NormKind> kNorm{{"layer_norm", NormKind::layer_norm},
                                            {"rms_norm", NormKind::rms_norm}};
const std::map<std::string, NormPlacement> kPlacement{{"pre", NormPlacement::pre},
                                                      {"primer", NormPlacement::primer}};
const std::map<std::string, DConvMode> kDConv{
    {"none", DConvMode::none}, {"separate", DConvMode::separate}, {"shared_qk", DConvMode::shared_qk}};
const std::map<std::string, PositionKind> kPosition{{"t5_bias", PositionKind::t5_bias},
                                                    {"rotary", PositionKind::rotary},
                                                    {"learned", PositionKind::learned},
                                                    {"none", PositionKind::none}};

template <class E>
std::string name_of(const std::map<std::string, E>& names, E value) {
  for (const auto& [name, candidate] : names) {
    if (candidate == value) return name;
  }
  return "?";
}

ModelConfig preset(const Variant& variant) {
  ModelConfig c;
  c.variant = std::string(variant.name);
  c.feed_forward = variant.feed_forward;
  c.norm = variant.norm;
  c.norm_placement = variant.norm_placement;
  c.dconv = variant.dconv;
  return c;
}

std::int64_t positive(const ConfigNode& node, const std::string& key) {
  const auto value = node.get<std::int64_t>(key);
  if (value <= 0) node.fail(key, fmt::format("must be positive, got {}", value));
  return value;
}

}  // namespace

nn::TransformerBlockOptions ModelConfig::block_options() const {
  nn::TransformerBlockOptions options;
  options.norm = norm;
  options.placement = norm_placement;
  options.norm_eps = norm_eps;
  options.attention = {d_model,
                       num_heads,
                       head_dim,
                       dconv,
                       fold_attention_scale,
                       position == PositionKind::rotary ? std::optional<double>(rotary_base) : std::nullopt};
  options.feed_forward = {feed_forward, d_model, d_ff, ffn_bias};
  return options;
}

ModelConfig read_model_config(const ConfigNode& model) {
  std::map<std::string, const Variant*> variants;
  for (const Variant& variant : kVariants) variants.emplace(std::string(variant.name), &variant);
  ModelConfig c = preset(*model.choice<const Variant*>("variant", variants, find_variant("primer_ez")));
  c.vocab_size = positive(model, "vocab_size");
  c.d_model = positive(model, "d_model");
  c.num_layers = positive(model, "num_layers");
  c.num_heads = positive(model, "num_heads");
  c.d_ff = positive(model, "d_ff");
  c.max_seq_len = positive(model, "max_seq_len");
  if (model.has("head_dim")) {
    c.head_dim = positive(model, "head_dim");
  } else {
    if (c.d_model % c.num_heads != 0) {
      model.fail("num_heads", fmt::format("d_model {} is not divisible by num_heads {} (or set head_dim)",
                                          c.d_model, c.num_heads));
    }
    c.head_dim = c.d_model / c.num_heads;
  }
  c.feed_forward = model.choice("feed_forward", kFeedForward, c.feed_forward);
  c.norm = model.choice("norm", kNorm, c.norm);
  c.norm_placement = model.choice("norm_placement", kPlacement, c.norm_placement);
  c.dconv = model.choice("dconv", kDConv, c.dconv);
  c.position = model.choice("position", kPosition, c.position);
  c.ffn_bias = model.get_or("ffn_bias", c.ffn_bias);
  c.tie_embeddings = model.get_or("tie_embeddings", c.tie_embeddings);
  // Mesh-TF scales the final hidden state only when the softmax shares the embedding's weights.
  c.scale_logits = model.get_or("scale_logits", c.tie_embeddings);
  c.fold_attention_scale = model.get_or("fold_attention_scale", c.fold_attention_scale);
  c.norm_eps = model.get_or("norm_eps", c.norm_eps);
  if (!(c.norm_eps > 0.0)) model.fail("norm_eps", fmt::format("must be positive, got {}", c.norm_eps));
  if (model.has("relative_buckets")) c.relative_buckets = positive(model, "relative_buckets");
  if (model.has("relative_max_distance")) c.relative_max_distance = positive(model, "relative_max_distance");
  if (c.relative_max_distance <= c.relative_buckets / 2) {
    model.fail("relative_max_distance",
               fmt::format("must exceed relative_buckets / 2 = {}", c.relative_buckets / 2));
  }
  c.rotary_base = model.get_or("rotary_base", c.rotary_base);
  if (!(c.rotary_base > 1.0)) model.fail("rotary_base", "must be greater than 1");
  if (c.position == PositionKind::rotary && c.head_dim % 2 != 0) {
    model.fail("position", fmt::format("rotary embeddings need an even head_dim, got {}", c.head_dim));
  }
  c.init_seed = model.get_or<std::int64_t>("init_seed", c.init_seed);
  return c;
}

ModelConfig load_model_config(const std::string& path) {
  const ConfigNode root = ConfigNode::load_file(path);
  const ConfigNode model = root.section("model");
  ModelConfig config = read_model_config(model);
  model.reject_unknown_keys();
  return config;
}

std::string to_string(FeedForwardKind kind) {
  return name_of(kFeedForward, kind);
}
std::string to_string(NormKind kind) {
  return name_of(kNorm, kind);
}
std::string to_string(NormPlacement placement) {
  return name_of(kPlacement, placement);
}
std::string to_string(DConvMode mode) {
  return name_of(kDConv, mode);
}
std::string to_string(PositionKind kind) {
  return name_of(kPosition, kind);
}

}  // namespace primer
