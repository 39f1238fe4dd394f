#pragma once
// The model variants by name (docs/models.md): what each presets. Everything not listed
// here (T5 bias, tied embeddings, biases, initialisation) is shared and set by ModelConfig's defaults.
// A new variant is a new row; every test that iterates variants reads this table.
#include <array>
#include <string_view>

#include "primer/nn/transformer_block.h"

namespace primer {

struct Variant {
  std::string_view name;
  nn::FeedForwardKind feed_forward;
  nn::NormKind norm;
  nn::NormPlacement norm_placement;
  nn::DConvMode dconv;
};

inline constexpr std::array kVariants{
    Variant{"vanilla", nn::FeedForwardKind::relu, nn::NormKind::layer_norm, nn::NormPlacement::pre,
            nn::DConvMode::none},
    Variant{"gelu", nn::FeedForwardKind::gelu, nn::NormKind::layer_norm, nn::NormPlacement::pre,
            nn::DConvMode::none},
    Variant{"transformer++", nn::FeedForwardKind::swiglu, nn::NormKind::rms_norm, nn::NormPlacement::pre,
            nn::DConvMode::none},
    Variant{"primer_ez", nn::FeedForwardKind::squared_relu, nn::NormKind::layer_norm, nn::NormPlacement::pre,
            nn::DConvMode::separate},
    Variant{"primer", nn::FeedForwardKind::squared_relu, nn::NormKind::layer_norm, nn::NormPlacement::primer,
            nn::DConvMode::shared_qk},
};

// The row named `name`, or null.
constexpr const Variant* find_variant(std::string_view name) {
  for (const Variant& variant : kVariants) {
    if (variant.name == name) return &variant;
  }
  return nullptr;
}

}  // namespace primer
