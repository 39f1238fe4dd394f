#pragma once
// The small model configs the model, decoding and sampling tests share: every variant and position
// scheme at a size that runs in milliseconds.
#include <string>
#include <vector>

#include "primer/config/config_node.h"
#include "primer/models/model_config.h"
#include "primer/models/variants.h"

namespace primer::testing {

// Every variant's name, from the table the configs are read through.
inline std::vector<std::string> variant_names() {
  std::vector<std::string> names;
  for (const Variant& variant : kVariants) names.emplace_back(variant.name);
  return names;
}

// The variant's name as config files spell it ("transformer++" -> "transformer_pp").
inline std::string file_name_of(std::string name) {
  if (const auto plus = name.find("++"); plus != std::string::npos) name.replace(plus, 2, "_pp");
  return name;
}

inline ModelConfig tiny_model_config(const std::string& variant, PositionKind position,
                                     std::int64_t max_seq_len = 12) {
  const std::string text = "model:\n  variant: " + variant +
                           "\n  vocab_size: 50\n  d_model: 16\n  num_layers: 2\n  num_heads: 2\n  d_ff: 24\n"
                           "  max_seq_len: " +
                           std::to_string(max_seq_len) + "\n";
  ModelConfig config = read_model_config(ConfigNode::parse(text, "tiny.yaml").section("model"));
  config.position = position;
  return config;
}

}  // namespace primer::testing
