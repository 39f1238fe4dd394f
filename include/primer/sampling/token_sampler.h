#pragma once
// Choosing the next token from one row of logits: repetition penalty, temperature, top-k, top-p
// (nucleus), then a draw from the renormalised distribution. Temperature 0 is greedy decoding.
// Ties are broken towards the lower token id, so both modes are deterministic for a given seed.
#include <cstdint>
#include <span>

#include "primer/tensor/random.h"

namespace primer::sampling {

struct SamplingOptions {
  double temperature = 1.0;         // 0: greedy
  std::int64_t top_k = 0;           // keep the k most likely tokens; 0: all
  double top_p = 1.0;               // keep the most likely tokens whose probabilities sum to top_p
  double repetition_penalty = 1.0;  // > 1 discourages tokens already in the context (CTRL's rule)
};

// Checks the ranges (temperature >= 0, top_k >= 0, 0 < top_p <= 1, repetition_penalty > 0).
void validate(const SamplingOptions& options);

// logits: one row over the vocabulary; context: the tokens so far (prompt and generated), which the
// repetition penalty reads.
std::int32_t choose_token(std::span<const float> logits, std::span<const std::int32_t> context,
                          const SamplingOptions& options, Generator& generator);

}  // namespace primer::sampling
