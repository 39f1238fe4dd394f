#pragma once
// Text generation from a LanguageModel: each prompt is prefilled in one forward pass, then every
// sequence advances one token per step in a single batch, each new token costing attention over the
// context through the sequences' DecodeStates. generate() works on token ids (tests, benchmarks);
// generate_text() adds the tokenizer, stop strings and streaming (primer-sample).
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "primer/data/tokenizer.h"
#include "primer/models/language_model.h"
#include "primer/sampling/token_sampler.h"

namespace primer::sampling {

struct GenerationOptions {
  SamplingOptions sampling{};
  std::int64_t max_new_tokens = 128;
  std::int64_t samples_per_prompt = 1;
  std::uint64_t seed = 0;  // sequence i draws from its own generator, so batching does not change it
  std::optional<std::int32_t> stop_token{};  // typically the tokenizer's end-of-text id
  // false recomputes the whole context for every token: the baseline the decoding benchmark measures.
  bool use_cache = true;
};

enum class FinishReason {
  length,        // max_new_tokens reached
  stop_token,    // the stop token was drawn (it is not part of the output)
  stop_string,   // the text reached a stop string (generate_text)
  context_full,  // the model's max_seq_len is used up
};
std::string to_string(FinishReason reason);

struct GeneratedSequence {
  std::size_t prompt_index = 0;
  std::vector<std::int32_t> prompt;
  std::vector<std::int32_t> generated;
  FinishReason finish = FinishReason::length;
};

struct GenerationStats {
  std::int64_t prompt_tokens = 0;
  std::int64_t generated_tokens = 0;
  std::int64_t decoded_tokens = 0;  // tokens the model was fed after the prefill (more without a cache)
  double prefill_seconds = 0.0;     // the prompts' forward passes, which also draw each first token
  double decode_seconds = 0.0;      // every later token
  // Generated tokens per second of the whole call, prefill included.
  double tokens_per_second() const {
    const double total = prefill_seconds + decode_seconds;
    return total > 0 ? static_cast<double>(generated_tokens) / total : 0.0;
  }
};

// Called after each new token of sequence `index`; returning true ends that sequence as stop_string.
using TokenObserver = std::function<bool(std::size_t index, const GeneratedSequence& sequence)>;

// Sequences come back prompt by prompt, samples_per_prompt each. A prompt must be non-empty and fit the
// context (at most max_seq_len tokens); each sequence stops at max_new_tokens, the stop token or a full
// context, whichever comes first.
std::vector<GeneratedSequence> generate(const LanguageModel& model,
                                        const std::vector<std::vector<std::int32_t>>& prompts,
                                        const GenerationOptions& options, const TokenObserver& observer = {},
                                        GenerationStats* stats = nullptr);

struct TextCompletion {
  std::size_t prompt_index = 0;
  std::string text;  // the continuation only, cut before a stop string
  std::int64_t tokens = 0;
  FinishReason finish = FinishReason::length;
};

// Called with each new piece of text of sequence `index` as soon as it is certain (not the start of
// a stop string, not an incomplete UTF-8 character); the pieces of a sequence add up to its text.
using TextStream = std::function<void(std::size_t index, std::string_view piece)>;

std::vector<TextCompletion> generate_text(const LanguageModel& model, const data::Tokenizer& tokenizer,
                                          const std::vector<std::string>& prompts,
                                          const GenerationOptions& options,
                                          const std::vector<std::string>& stop_strings = {},
                                          const TextStream& stream = {}, GenerationStats* stats = nullptr);

}  // namespace primer::sampling
