#pragma once
// One sequence's state for incremental decoding: how many tokens the model has consumed and, per layer,
// the attention cache (keys, values and MDHA's convolution history). LanguageModel::extend reads and
// appends to it, so each new token costs attention over the context instead of a full forward pass.
#include <cstdint>
#include <vector>

#include "primer/nn/attention.h"

namespace primer {

struct DecodeState {
  std::int64_t length = 0;  // tokens consumed
  std::vector<nn::AttentionCache> layers;

  std::int64_t capacity() const { return layers.empty() ? 0 : layers.front().keys.size(1); }
  // An independent copy: several samples continue one prefilled prompt.
  DecodeState clone() const {
    DecodeState copy{length, {}};
    for (const nn::AttentionCache& layer : layers) {
      nn::AttentionCache cache{layer.keys.clone(), layer.values.clone(), {}};
      for (const Tensor& history : layer.conv_history) cache.conv_history.push_back(history.clone());
      copy.layers.push_back(std::move(cache));
    }
    return copy;
  }
};

}  // namespace primer
