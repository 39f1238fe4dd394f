// primer-sample --checkpoint RUN_OR_CHECKPOINT [--prompt TEXT]... [--prompt-file F] [options]
// Continues prompts with a model trained by primer-train; with no --prompt or --prompt-file the prompt
// is read from standard input. See docs/sampling.md.
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>

#include "primer/sampling/generate.h"
#include "primer/sampling/trained_model.h"

namespace {

std::vector<std::string> read_prompt_file(const std::string& path) {
  std::ifstream in(path);
  PRIMER_CHECK(in.good(), "{}: cannot open the prompt file", path);
  std::vector<std::string> prompts;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) prompts.push_back(line);
  }
  PRIMER_CHECK(!prompts.empty(), "{}: no prompts (one per non-empty line)", path);
  return prompts;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"primer-sample: continue text with a model trained by primer-train"};
  std::string checkpoint, tokenizer, prompt_file;
  std::vector<std::string> prompts, stops;
  primer::sampling::GenerationOptions options;
  bool greedy = false, no_stream = false, no_cache = false, no_stop_at_eos = false;
  std::string device_name = "cpu";
  app.add_option("--checkpoint", checkpoint,
                 "run directory (newest valid checkpoint) or checkpoint directory")
      ->required();
  app.add_option("--tokenizer", tokenizer,
                 "SentencePiece model (default: the run directory's tokenizer.model)");
  app.add_option("--prompt", prompts, "prompt text (repeatable: prompts run as one batch)");
  app.add_option("--prompt-file", prompt_file, "one prompt per non-empty line");
  app.add_option("--max-new-tokens", options.max_new_tokens, "tokens to generate per sample")
      ->capture_default_str();
  app.add_option("--temperature", options.sampling.temperature, "0 is greedy")->capture_default_str();
  app.add_option("--top-k", options.sampling.top_k, "keep the k most likely tokens (0: all)")
      ->capture_default_str();
  app.add_option("--top-p", options.sampling.top_p, "nucleus sampling mass")->capture_default_str();
  app.add_option("--repetition-penalty", options.sampling.repetition_penalty, "> 1 discourages repeats")
      ->capture_default_str();
  app.add_option("--seed", options.seed, "sampling seed")->capture_default_str();
  app.add_option("--samples", options.samples_per_prompt, "samples per prompt")->capture_default_str();
  app.add_option("--stop", stops, "end a sample when its text reaches this string (repeatable)");
  app.add_option("--device", device_name, "where the model runs")
      ->check(CLI::IsMember({"cpu", "cuda"}))
      ->capture_default_str();
  app.add_flag("--greedy", greedy, "always take the most likely token (same as --temperature 0)");
  app.add_flag("--no-stream", no_stream, "print each sample when it is complete");
  app.add_flag("--no-stop-at-eos", no_stop_at_eos, "keep generating past the end-of-text token");
  app.add_flag("--no-cache", no_cache, "recompute the whole context for every token (slow; for comparison)");
  CLI11_PARSE(app, argc, argv);
  try {
    if (!prompt_file.empty()) {
      const std::vector<std::string> from_file = read_prompt_file(prompt_file);
      prompts.insert(prompts.end(), from_file.begin(), from_file.end());
    }
    if (prompts.empty()) {
      prompts.emplace_back(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
      while (!prompts.back().empty() && prompts.back().back() == '\n') prompts.back().pop_back();
    }
    if (greedy) options.sampling.temperature = 0.0;
    options.use_cache = !no_cache;

    const primer::sampling::TrainedModel trained = primer::sampling::load_trained_model(
        checkpoint, tokenizer, device_name == "cuda" ? primer::Device::cuda() : primer::Device::cpu());
    if (!no_stop_at_eos) options.stop_token = trained.tokenizer->eos_id();
    const std::size_t sequences =
        prompts.size() * static_cast<std::size_t>(std::max<std::int64_t>(options.samples_per_prompt, 1));
    // Streaming interleaved samples would be unreadable: stream only a single one.
    const bool stream = !no_stream && sequences == 1;
    bool prompt_printed = false;
    const auto print_prompt_once = [&] {
      if (!prompt_printed) fmt::print("{}", prompts.front());
      prompt_printed = true;
    };
    primer::sampling::GenerationStats stats;
    const auto completions = primer::sampling::generate_text(
        *trained.model, *trained.tokenizer, prompts, options, stops,
        stream ? primer::sampling::TextStream([&](std::size_t, std::string_view piece) {
          print_prompt_once();
          fmt::print("{}", piece);
          std::fflush(stdout);
        })
               : primer::sampling::TextStream(),
        &stats);
    if (stream) {
      print_prompt_once();
      fmt::print("\n");
      std::fflush(stdout);
    } else {
      for (std::size_t i = 0; i < completions.size(); ++i) {
        fmt::print("=== sample {} (prompt {}, {} tokens, {}) ===\n{}{}\n", i + 1,
                   completions[i].prompt_index + 1, completions[i].tokens,
                   primer::sampling::to_string(completions[i].finish), prompts[completions[i].prompt_index],
                   completions[i].text);
      }
    }
    fmt::print(stderr,
               "primer-sample: {} prompt tokens, {} generated in {} sequences from {}; prefill {:.3f} s, "
               "decode {:.3f} s, {:.1f} tokens/s\n",
               stats.prompt_tokens, stats.generated_tokens, completions.size(), trained.checkpoint,
               stats.prefill_seconds, stats.decode_seconds, stats.tokens_per_second());
    return EXIT_SUCCESS;
  } catch (const std::exception& error) {
    fmt::print(stderr, "primer-sample: {}\n", error.what());
    return EXIT_FAILURE;
  }
}
