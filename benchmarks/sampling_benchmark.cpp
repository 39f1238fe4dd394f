// primer-bench-sample [--config configs/X.yaml] [--prompt-tokens N] [--new-tokens M] [--repeats R]
// Decoding throughput: greedy generation of M tokens after an N-token prompt, at batch 1 and batch 8,
// with the KV/convolution cache against full recompute of the context for every token (the baseline,
// measured in the same run). Random weights: speed does not depend on what the model learned.
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdlib>

#include "primer/models/model_config.h"
#include "primer/sampling/generate.h"
#include "primer/tensor/random.h"

namespace {

struct Measurement {
  double tokens_per_second = 0.0;
  std::vector<primer::sampling::GeneratedSequence> sequences;
};

// Best of `repeats`: the least disturbed run.
Measurement measure(const primer::LanguageModel& model, const std::vector<std::vector<std::int32_t>>& prompts,
                    primer::sampling::GenerationOptions options, bool use_cache, int repeats) {
  options.use_cache = use_cache;
  Measurement best;
  for (int r = 0; r < repeats; ++r) {
    primer::sampling::GenerationStats stats;
    auto sequences = primer::sampling::generate(model, prompts, options, {}, &stats);
    if (stats.tokens_per_second() > best.tokens_per_second)
      best = {stats.tokens_per_second(), std::move(sequences)};
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"primer-bench-sample: decoding tokens/s with the cache against full recompute"};
  std::string config_path = "configs/tiny_primer_ez.yaml";
  std::int64_t prompt_tokens = 64, new_tokens = 128;
  int repeats = 3;
  app.add_option("--config", config_path, "model config")->capture_default_str();
  app.add_option("--prompt-tokens", prompt_tokens, "prompt length")->capture_default_str();
  app.add_option("--new-tokens", new_tokens, "tokens generated per sequence")->capture_default_str();
  app.add_option("--repeats", repeats, "runs per measurement; the best counts")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  try {
    const primer::ModelConfig config = primer::load_model_config(config_path);
    PRIMER_CHECK(prompt_tokens + new_tokens <= config.max_seq_len, "{} + {} tokens exceed max_seq_len {}",
                 prompt_tokens, new_tokens, config.max_seq_len);
    const primer::LanguageModel model(config);
    primer::sampling::GenerationOptions options;
    options.sampling.temperature = 0.0;
    options.max_new_tokens = new_tokens;
    fmt::print("{} ({}), prompt {} tokens, {} new tokens per sequence, greedy, best of {}\n", config_path,
               config.variant, prompt_tokens, new_tokens, repeats);
    fmt::print("{:>6} {:>16} {:>20} {:>8}\n", "batch", "cached tok/s", "full recompute tok/s", "ratio");
    primer::Generator generator(1);
    for (const std::int64_t batch : {1, 8}) {
      std::vector<std::vector<std::int32_t>> prompts;
      for (std::int64_t b = 0; b < batch; ++b) {
        prompts.push_back(
            primer::randint({prompt_tokens}, 4, static_cast<std::int32_t>(config.vocab_size), generator)
                .to_vector<std::int32_t>());
      }
      const Measurement cached = measure(model, prompts, options, true, repeats);
      const Measurement recomputed = measure(model, prompts, options, false, repeats);
      // Both must produce the same greedy tokens, or the comparison is void.
      bool same = true;
      for (std::size_t i = 0; i < prompts.size(); ++i) {
        same = same && cached.sequences[i].generated == recomputed.sequences[i].generated;
      }
      PRIMER_CHECK(same, "batch {}: cached and recomputed greedy tokens differ", batch);
      fmt::print("{:>6} {:>16.1f} {:>20.1f} {:>7.2f}x\n", batch, cached.tokens_per_second,
                 recomputed.tokens_per_second, cached.tokens_per_second / recomputed.tokens_per_second);
    }
    return EXIT_SUCCESS;
  } catch (const std::exception& error) {
    fmt::print(stderr, "primer-bench-sample: {}\n", error.what());
    return EXIT_FAILURE;
  }
}
