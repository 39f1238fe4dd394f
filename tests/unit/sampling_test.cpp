// Sampling: the token sampler's rules, generation with the cache against full recompute, determinism
// for a seed whatever the batch, stop tokens and strings, streaming, and loading a model that
// primer-train wrote, with the errors of missing or mismatched files.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "moby_dataset.h"
#include "primer/sampling/generate.h"
#include "primer/sampling/trained_model.h"
#include "primer/train/trainer.h"
#include "temporary.h"
#include "tiny_model.h"

namespace primer::sampling {
namespace {

namespace fs = std::filesystem;

std::int32_t choose(const std::vector<float>& logits, const SamplingOptions& options, std::uint64_t seed = 0,
                    const std::vector<std::int32_t>& context = {}) {
  Generator generator(seed);
  return choose_token(logits, context, options, generator);
}

template <class F>
void expect_error_containing(F&& call, const std::string& expected) {
  try {
    call();
    ADD_FAILURE() << "no error; expected one containing: " << expected;
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find(expected), std::string::npos) << error.what();
  }
}

TEST(TokenSampler, GreedyTakesTheMostLikelyTokenAndTheLowestIdOnTies) {
  EXPECT_EQ(choose({0.1f, 2.0f, -1.0f, 2.0f}, {.temperature = 0.0}), 1);
  EXPECT_EQ(choose({0.1f, 2.0f, -1.0f, 2.5f}, {.temperature = 0.0}), 3);
}

TEST(TokenSampler, TopKOfOneAndATinyNucleusAreGreedy) {
  const std::vector<float> logits{0.5f, 1.0f, 0.9f, -2.0f};
  for (std::uint64_t seed = 0; seed < 50; ++seed) {
    EXPECT_EQ(choose(logits, {.temperature = 5.0, .top_k = 1}, seed), 1);
    EXPECT_EQ(choose(logits, {.temperature = 5.0, .top_p = 1e-6}, seed), 1);
  }
}

TEST(TokenSampler, DrawsFollowTheSoftmaxWithinTopKAndTopP) {
  const std::vector<float> logits{1.0f, 0.0f, 2.0f, -1.0f};
  const int draws = 40000;
  std::vector<int> counts(4, 0);
  Generator generator(3);
  for (int i = 0; i < draws; ++i) ++counts[static_cast<std::size_t>(choose_token(logits, {}, {}, generator))];
  double total = 0;
  for (const float l : logits) total += std::exp(static_cast<double>(l));
  for (std::size_t i = 0; i < 4; ++i) {
    const double expected = std::exp(static_cast<double>(logits[i])) / total;
    EXPECT_NEAR(counts[i] / static_cast<double>(draws), expected, 0.01) << "token " << i;
  }
  // top-k 2 keeps tokens 2 and 0; top-p 0.7 keeps token 2 (0.64) and then 0 (0.24): the same pair.
  for (const SamplingOptions options : {SamplingOptions{.top_k = 2}, SamplingOptions{.top_p = 0.7}}) {
    for (std::uint64_t seed = 0; seed < 200; ++seed) {
      const std::int32_t token = choose(logits, options, seed);
      EXPECT_TRUE(token == 2 || token == 0) << token;
    }
  }
}

TEST(TokenSampler, RepetitionPenaltyDemotesTokensInTheContext) {
  const std::vector<float> logits{2.0f, 1.5f, -1.0f};
  EXPECT_EQ(choose(logits, {.temperature = 0.0}), 0);
  EXPECT_EQ(choose(logits, {.temperature = 0.0, .repetition_penalty = 1.5}, 0, {0, 0, 2}), 1);
}

TEST(TokenSampler, RejectsBadOptionsAndNonFiniteLogits) {
  expect_error_containing([] { choose({1.0f}, {.temperature = -1.0}); }, "temperature");
  expect_error_containing([] { choose({1.0f}, {.top_k = -1}); }, "top-k");
  expect_error_containing([] { choose({1.0f}, {.top_p = 0.0}); }, "top-p");
  expect_error_containing([] { choose({1.0f}, {.repetition_penalty = 0.0}); }, "repetition penalty");
  expect_error_containing([] { choose({1.0f, NAN}, {}); }, "non-finite logit");
}

// Random weights: the tokens are meaningless but every path of the model is exercised.
class Generation : public ::testing::Test {
 protected:
  static LanguageModel model(const std::string& variant, PositionKind position, std::int64_t context = 24) {
    return LanguageModel(testing::tiny_model_config(variant, position, context));
  }
};

TEST_F(Generation, GreedyWithTheCacheEqualsFullRecompute) {
  for (const std::string& variant : testing::variant_names()) {
    SCOPED_TRACE(variant);
    const LanguageModel m = model(variant, PositionKind::t5_bias);
    GenerationOptions options{.sampling = {.temperature = 0.0}, .max_new_tokens = 15};
    const std::vector<std::vector<std::int32_t>> prompts{{3, 14, 15, 9}, {2, 6}};
    const auto cached = generate(m, prompts, options);
    options.use_cache = false;
    const auto recomputed = generate(m, prompts, options);
    ASSERT_EQ(cached.size(), 2u);
    for (std::size_t i = 0; i < cached.size(); ++i) {
      EXPECT_EQ(cached[i].generated, recomputed[i].generated);
      EXPECT_EQ(cached[i].generated.size(), 15u);
      EXPECT_EQ(cached[i].finish, FinishReason::length);
    }
  }
}

TEST_F(Generation, ASeedGivesTheSameSamplesAloneOrInABatch) {
  const LanguageModel m = model("primer", PositionKind::rotary);
  const GenerationOptions options{.max_new_tokens = 10, .samples_per_prompt = 2, .seed = 11};
  const auto alone = generate(m, {{5, 4, 3}}, options);
  const auto batched = generate(m, {{5, 4, 3}, {7, 7, 7, 7, 7}}, options);
  ASSERT_EQ(alone.size(), 2u);
  ASSERT_EQ(batched.size(), 4u);
  EXPECT_EQ(alone[0].generated, batched[0].generated);
  EXPECT_EQ(alone[1].generated, batched[1].generated);
  EXPECT_NE(alone[0].generated, alone[1].generated) << "two samples of one prompt drew the same 10 tokens";
  EXPECT_EQ(batched[2].prompt_index, 1u);
  EXPECT_EQ(generate(m, {{5, 4, 3}}, options)[1].generated, alone[1].generated);
}

TEST_F(Generation, StopsAtTheStopTokenOrAFullContext) {
  const LanguageModel m = model("primer_ez", PositionKind::learned, 8);
  GenerationOptions options{.sampling = {.temperature = 0.0}, .max_new_tokens = 100};
  const auto full = generate(m, {{1, 2, 3}}, options);
  EXPECT_EQ(full[0].finish, FinishReason::context_full);
  EXPECT_EQ(full[0].generated.size(), 5u) << "positions 3..7 of an 8-token context";
  // The first token that differs from all before it: generation must end just before it.
  std::size_t first_new = 1;
  while (first_new < full[0].generated.size() &&
         std::find(full[0].generated.begin(),
                   full[0].generated.begin() + static_cast<std::ptrdiff_t>(first_new),
                   full[0].generated[first_new]) !=
             full[0].generated.begin() + static_cast<std::ptrdiff_t>(first_new)) {
    ++first_new;
  }
  ASSERT_LT(first_new, full[0].generated.size()) << "greedy repeated one token throughout";
  options.stop_token = full[0].generated[first_new];
  const auto stopped = generate(m, {{1, 2, 3}}, options);
  EXPECT_EQ(stopped[0].finish, FinishReason::stop_token);
  EXPECT_EQ(stopped[0].generated.size(), first_new);
}

TEST_F(Generation, RejectsEmptyTooLongAndOutOfVocabularyPrompts) {
  const LanguageModel m = model("vanilla", PositionKind::none, 8);
  expect_error_containing([&] { generate(m, {{}}, {}); }, "prompt 1 is empty");
  expect_error_containing(
      [&] {
        generate(m, {{1}, std::vector<std::int32_t>(9, 1)}, {});
      },
      "prompt 2 has 9 tokens but the model's context (max_seq_len) is 8");
  expect_error_containing([&] { generate(m, {{1, 50}}, {}); }, "token 50 is outside the vocabulary of 50");
  expect_error_containing([&] { generate(m, {{1}}, {.max_new_tokens = 0}); }, "max new tokens");
}

TEST(TextGeneration, StreamedPiecesAddUpAndStopStringsCutTheText) {
  const data::Tokenizer tokenizer(testing::moby_tokenizer_path());
  ModelConfig config = testing::tiny_model_config("primer_ez", PositionKind::t5_bias, 64);
  config.vocab_size = tokenizer.vocab_size();
  const LanguageModel m(config);
  const GenerationOptions options{.max_new_tokens = 40, .seed = 4};
  std::string streamed;
  const auto whole = generate_text(m, tokenizer, {"Call me Ishmael."}, options, {},
                                   [&](std::size_t, std::string_view piece) { streamed += piece; });
  ASSERT_EQ(whole.size(), 1u);
  EXPECT_EQ(streamed, whole[0].text);
  ASSERT_GT(whole[0].text.size(), 12u);

  const std::string stop = whole[0].text.substr(whole[0].text.size() / 2, 3);
  streamed.clear();
  const auto cut = generate_text(m, tokenizer, {"Call me Ishmael."}, options, {stop},
                                 [&](std::size_t, std::string_view piece) { streamed += piece; });
  EXPECT_EQ(cut[0].finish, FinishReason::stop_string);
  EXPECT_EQ(cut[0].text, whole[0].text.substr(0, whole[0].text.find(stop)));
  EXPECT_EQ(streamed, cut[0].text);
  expect_error_containing([&] { generate_text(m, tokenizer, {""}, options); }, "prompt 1 is empty");
}

TEST(TrainedModel, LoadsWhatPrimerTrainWroteAndNamesWhatIsMissing) {
  const std::string run = testing::temporary_path("sampled_run");
  fs::remove_all(run);
  const std::string config_path = testing::temporary_path("sampled_run.yaml");
  std::ofstream(config_path)
      << "model:\n  variant: primer\n  vocab_size: 1000\n  d_model: 32\n  num_layers: 2\n"
         "  num_heads: 4\n  d_ff: 64\n  max_seq_len: 32\n"
      << "data:\n  directory: " << testing::moby_dataset() << "\n  seq_len: 32\n"
      << "training:\n  batch_size: 4\n  steps: 4\n"
      << "optimizer:\n  name: adamw\n"
      << "schedule:\n  name: constant\n  lr: 0.001\n  warmup_steps: 1\n"
      << "eval:\n  every: 4\n  batches: 1\n"
      << "checkpoint:\n  directory: " << run << "\n  every: 2\n";
  train::Trainer(train::load_train_config(config_path)).run(false);

  const TrainedModel trained = load_trained_model(run);
  EXPECT_EQ(trained.checkpoint, run + "/checkpoints/step-00000004");
  EXPECT_EQ(trained.model->config().variant, "primer");
  const auto completions =
      generate_text(*trained.model, *trained.tokenizer, {"The whale"}, {.max_new_tokens = 5});
  EXPECT_EQ(completions[0].tokens, 5);
  EXPECT_EQ(load_trained_model(run + "/checkpoints/step-00000002").checkpoint,
            run + "/checkpoints/step-00000002");

  expect_error_containing([&] { load_trained_model(run + "/nothing"); },
                          "no such checkpoint or run directory");
  expect_error_containing([&] { load_trained_model(run, run + "/absent.model"); },
                          "absent.model: no such tokenizer");
  fs::remove(run + "/tokenizer.model");
  expect_error_containing([&] { load_trained_model(run); }, "no tokenizer.model next to the checkpoints");
  for (const char* step : {"step-00000002", "step-00000004"}) {
    std::ofstream(run + "/checkpoints/" + step + "/model.safetensors", std::ios::app) << "corrupt";
  }
  expect_error_containing([&] { load_trained_model(run, testing::moby_tokenizer_path()); },
                          "no valid checkpoint in");
}

}  // namespace
}  // namespace primer::sampling
