#include "primer/sampling/generate.h"

#include <algorithm>
#include <chrono>
#include <map>

#include "primer/autograd/grad_mode.h"

namespace primer::sampling {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

struct Running {
  explicit Running(Generator g) : generator(g) {}
  GeneratedSequence sequence;
  DecodeState state;
  Generator generator;
  std::vector<std::int32_t> context;  // prompt then generated: what the repetition penalty reads
  bool finished = false;
};

// logits: host rows (the model's output, moved off its device once per step).
std::span<const float> row(const Tensor& logits, std::int64_t index) {
  const std::int64_t vocab = logits.size(1);
  return {logits.data<float>() + index * vocab, static_cast<std::size_t>(vocab)};
}

void check_request(const LanguageModel& model, const std::vector<std::vector<std::int32_t>>& prompts,
                   const GenerationOptions& options) {
  validate(options.sampling);
  PRIMER_CHECK(options.max_new_tokens >= 1, "max new tokens must be >= 1, got {}", options.max_new_tokens);
  PRIMER_CHECK(options.samples_per_prompt >= 1, "samples per prompt must be >= 1, got {}",
               options.samples_per_prompt);
  const ModelConfig& config = model.config();
  for (std::size_t i = 0; i < prompts.size(); ++i) {
    PRIMER_CHECK(!prompts[i].empty(), "prompt {} is empty: give at least one token", i + 1);
    PRIMER_CHECK(static_cast<std::int64_t>(prompts[i].size()) <= config.max_seq_len,
                 "prompt {} has {} tokens but the model's context (max_seq_len) is {}", i + 1,
                 prompts[i].size(), config.max_seq_len);
    for (const std::int32_t token : prompts[i]) {
      PRIMER_CHECK(token >= 0 && token < config.vocab_size,
                   "prompt {}: token {} is outside the vocabulary of {}", i + 1, token, config.vocab_size);
    }
  }
}

class Generation {
 public:
  Generation(const LanguageModel& model, const GenerationOptions& options, const TokenObserver& observer)
      : model_(model), options_(options), observer_(observer) {}

  void prefill(const std::vector<std::vector<std::int32_t>>& prompts) {
    for (std::size_t p = 0; p < prompts.size(); ++p) {
      const std::vector<std::int32_t>& prompt = prompts[p];
      const Tensor ids = Tensor::from_vector(prompt, {1, static_cast<std::int64_t>(prompt.size())});
      DecodeState state;
      Tensor logits;
      if (options_.use_cache) {
        state = model_.new_decode_state();
        logits = model_.extend(ids, {&state}).to(Device::cpu());
      } else {
        logits = model_.logits(ids).value().to(Device::cpu());
      }
      const auto last = static_cast<std::int64_t>(prompt.size()) - 1;
      for (std::int64_t s = 0; s < options_.samples_per_prompt; ++s) {
        const std::size_t index = running_.size();
        Running& r = running_.emplace_back(generator_for(index));
        r.sequence.prompt_index = p;
        r.sequence.prompt = prompt;
        r.context = prompt;
        r.state = s + 1 == options_.samples_per_prompt ? std::move(state) : state.clone();
        take(index, choose_token(row(logits, last), r.context, options_.sampling, r.generator));
      }
    }
  }

  // One new token for every unfinished sequence; returns how many tokens the model was fed.
  std::int64_t step() {
    std::vector<std::size_t> active;
    for (std::size_t i = 0; i < running_.size(); ++i) {
      if (!running_[i].finished) active.push_back(i);
    }
    if (active.empty()) return 0;
    return options_.use_cache ? step_with_cache(active) : step_recomputing(active);
  }

  std::vector<GeneratedSequence> results() {
    std::vector<GeneratedSequence> out;
    for (Running& r : running_) out.push_back(std::move(r.sequence));
    return out;
  }

 private:
  Generator generator_for(std::size_t index) const {
    return Generator(options_.seed ^ (0x9E3779B97F4A7C15ULL * (index + 1)));
  }

  std::int64_t step_with_cache(const std::vector<std::size_t>& active) {
    std::vector<std::int32_t> last_tokens;
    std::vector<DecodeState*> states;
    for (const std::size_t i : active) {
      last_tokens.push_back(running_[i].context.back());
      states.push_back(&running_[i].state);
    }
    const auto batch = static_cast<std::int64_t>(active.size());
    const Tensor logits =
        model_.extend(Tensor::from_vector(last_tokens, {batch, 1}), states).to(Device::cpu());
    for (std::int64_t a = 0; a < batch; ++a) {
      Running& r = running_[active[static_cast<std::size_t>(a)]];
      take(active[static_cast<std::size_t>(a)],
           choose_token(row(logits, a), r.context, options_.sampling, r.generator));
    }
    return batch;
  }

  // Sequences of equal length share one full forward pass.
  std::int64_t step_recomputing(const std::vector<std::size_t>& active) {
    std::map<std::size_t, std::vector<std::size_t>> by_length;
    for (const std::size_t i : active) by_length[running_[i].context.size()].push_back(i);
    std::int64_t fed = 0;
    for (const auto& [length, group] : by_length) {
      std::vector<std::int32_t> ids;
      for (const std::size_t i : group)
        ids.insert(ids.end(), running_[i].context.begin(), running_[i].context.end());
      const auto time = static_cast<std::int64_t>(length);
      const Tensor logits =
          model_.logits(Tensor::from_vector(ids, {static_cast<std::int64_t>(group.size()), time}))
              .value()
              .to(Device::cpu());
      for (std::size_t g = 0; g < group.size(); ++g) {
        Running& r = running_[group[g]];
        take(group[g], choose_token(row(logits, static_cast<std::int64_t>(g) * time + time - 1), r.context,
                                    options_.sampling, r.generator));
      }
      fed += static_cast<std::int64_t>(group.size()) * time;
    }
    return fed;
  }

  void take(std::size_t index, std::int32_t token) {
    Running& r = running_[index];
    if (options_.stop_token && token == *options_.stop_token) {
      finish(r, FinishReason::stop_token);
      return;
    }
    r.sequence.generated.push_back(token);
    r.context.push_back(token);
    if (observer_ && observer_(index, r.sequence)) {
      finish(r, FinishReason::stop_string);
    } else if (static_cast<std::int64_t>(r.sequence.generated.size()) == options_.max_new_tokens) {
      finish(r, FinishReason::length);
    } else if (static_cast<std::int64_t>(r.context.size()) >= model_.config().max_seq_len) {
      // The token just drawn would be position max_seq_len: there is no room to feed it.
      finish(r, FinishReason::context_full);
    }
  }

  static void finish(Running& r, FinishReason reason) {
    r.finished = true;
    r.sequence.finish = reason;
    r.state = DecodeState();
  }

  const LanguageModel& model_;
  const GenerationOptions& options_;
  const TokenObserver& observer_;
  std::vector<Running> running_;
};

// UTF-8 text may end inside a character, or (SentencePiece byte fallback) with U+FFFD standing for
// bytes still to come; neither is certain yet.
std::size_t certain_prefix(const std::string& text) {
  static constexpr std::string_view kReplacement = "\xEF\xBF\xBD";
  std::size_t end = text.size();
  while (end >= kReplacement.size() &&
         std::string_view(text).substr(end - kReplacement.size(), kReplacement.size()) == kReplacement) {
    end -= kReplacement.size();
  }
  while (end > 0 && (static_cast<unsigned char>(text[end - 1]) & 0xC0) == 0x80) --end;
  if (end > 0 && (static_cast<unsigned char>(text[end - 1]) & 0x80) != 0) {
    // A lead byte: keep it only when all of its continuation bytes are there.
    const auto lead = static_cast<unsigned char>(text[end - 1]);
    const std::size_t length = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
    if (text.size() - (end - 1) >= length)
      end = std::min(text.size(), end - 1 + length);
    else
      end -= 1;
  }
  return end;
}

}  // namespace

std::string to_string(FinishReason reason) {
  switch (reason) {
    case FinishReason::length: return "length";
    case FinishReason::stop_token: return "stop_token";
    case FinishReason::stop_string: return "stop_string";
    case FinishReason::context_full: return "context_full";
  }
  return "unknown";
}

std::vector<GeneratedSequence> generate(const LanguageModel& model,
                                        const std::vector<std::vector<std::int32_t>>& prompts,
                                        const GenerationOptions& options, const TokenObserver& observer,
                                        GenerationStats* stats) {
  check_request(model, prompts, options);
  const NoGradGuard no_grad;
  Generation generation(model, options, observer);
  const Clock::time_point prefill_start = Clock::now();
  generation.prefill(prompts);
  const double prefill_seconds = seconds_since(prefill_start);
  const Clock::time_point decode_start = Clock::now();
  std::int64_t decoded = 0;
  while (const std::int64_t fed = generation.step()) decoded += fed;
  const double decode_seconds = seconds_since(decode_start);

  std::vector<GeneratedSequence> sequences = generation.results();
  if (stats != nullptr) {
    *stats = GenerationStats{};
    for (const auto& prompt : prompts) stats->prompt_tokens += static_cast<std::int64_t>(prompt.size());
    for (const GeneratedSequence& s : sequences)
      stats->generated_tokens += static_cast<std::int64_t>(s.generated.size());
    stats->decoded_tokens = decoded;
    stats->prefill_seconds = prefill_seconds;
    stats->decode_seconds = decode_seconds;
  }
  return sequences;
}

std::vector<TextCompletion> generate_text(const LanguageModel& model, const data::Tokenizer& tokenizer,
                                          const std::vector<std::string>& prompts,
                                          const GenerationOptions& options,
                                          const std::vector<std::string>& stop_strings,
                                          const TextStream& stream, GenerationStats* stats) {
  PRIMER_CHECK(tokenizer.vocab_size() <= model.config().vocab_size,
               "tokenizer {} has {} pieces but the model's vocabulary is {}", tokenizer.path(),
               tokenizer.vocab_size(), model.config().vocab_size);
  for (const std::string& stop : stop_strings) PRIMER_CHECK(!stop.empty(), "a stop string is empty");
  std::vector<std::vector<std::int32_t>> prompt_ids;
  std::vector<std::string> prompt_texts;
  for (std::size_t i = 0; i < prompts.size(); ++i) {
    prompt_ids.push_back(tokenizer.encode(prompts[i]));
    PRIMER_CHECK(!prompt_ids.back().empty(), "prompt {} is empty: give some text to continue", i + 1);
    prompt_texts.push_back(tokenizer.decode(prompt_ids.back()));
  }
  std::size_t longest_stop = 0;
  for (const std::string& stop : stop_strings) longest_stop = std::max(longest_stop, stop.size());

  struct Text {
    std::string continuation;
    std::size_t emitted = 0;
  };
  std::vector<Text> texts;
  const auto continuation_of = [&](const GeneratedSequence& s) {
    std::vector<std::int32_t> all = s.prompt;
    all.insert(all.end(), s.generated.begin(), s.generated.end());
    const std::string full = tokenizer.decode(all);
    const std::string& prefix = prompt_texts[s.prompt_index];
    return full.starts_with(prefix) ? full.substr(prefix.size()) : tokenizer.decode(s.generated);
  };
  const auto emit_until = [&](std::size_t index, std::size_t end) {
    Text& text = texts[index];
    if (end > text.emitted && stream)
      stream(index, std::string_view(text.continuation).substr(text.emitted, end - text.emitted));
    text.emitted = std::max(text.emitted, end);
  };
  const TokenObserver observer = [&](std::size_t index, const GeneratedSequence& sequence) {
    if (texts.size() <= index) texts.resize(index + 1);
    Text& text = texts[index];
    text.continuation = continuation_of(sequence);
    std::size_t stop_at = std::string::npos;
    for (const std::string& stop : stop_strings) stop_at = std::min(stop_at, text.continuation.find(stop));
    if (stop_at != std::string::npos) {
      text.continuation.resize(stop_at);
      emit_until(index, stop_at);
      return true;
    }
    // The last longest_stop - 1 bytes may yet become the start of a stop string.
    const std::size_t certain = certain_prefix(text.continuation);
    const std::size_t held = longest_stop > 0 ? longest_stop - 1 : 0;
    emit_until(index, certain > held ? certain - held : 0);
    return false;
  };

  const std::vector<GeneratedSequence> sequences = generate(model, prompt_ids, options, observer, stats);
  std::vector<TextCompletion> completions;
  texts.resize(sequences.size());
  for (std::size_t i = 0; i < sequences.size(); ++i) {
    if (sequences[i].finish != FinishReason::stop_string)
      texts[i].continuation = continuation_of(sequences[i]);
    emit_until(i, texts[i].continuation.size());
    completions.push_back({sequences[i].prompt_index, texts[i].continuation,
                           static_cast<std::int64_t>(sequences[i].generated.size()), sequences[i].finish});
  }
  return completions;
}

}  // namespace primer::sampling
