// Incremental decoding: for every variant and position scheme, the logits LanguageModel::extend gives
// position by position (after a prefill, one token at a time, several sequences of different lengths in
// one batch) equal those of a full forward pass over the same tokens.
#include <gtest/gtest.h>

#include "comparison.h"
#include "primer/models/language_model.h"
#include "primer/tensor/random.h"
#include "tiny_model.h"

namespace primer {
namespace {

constexpr std::int64_t kContext = 12;
constexpr double kTolerance = 1e-5;

// Moves every parameter away from its initial value (norm scales of 1, the constant dconv taps), so
// no term of the model is trivially the same at every position.
void perturb(LanguageModel& model) {
  Generator generator(99);
  for (const nn::NamedParameter& parameter : model.named_parameters()) {
    const Tensor& value = parameter.variable.value();
    const std::vector<float> noise = randn(value.shape(), DType::f32, generator, 0.2).to_vector<float>();
    std::vector<float> values = value.to_vector<float>();
    for (std::size_t i = 0; i < values.size(); ++i) values[i] += noise[i];
    value.copy_from(Tensor::from_vector(values, value.shape()));
  }
}

Tensor ids_of(const std::vector<std::int32_t>& tokens, std::int64_t begin, std::int64_t end) {
  return Tensor::from_vector(std::vector<std::int32_t>(tokens.begin() + begin, tokens.begin() + end),
                             {1, end - begin});
}

// Row `position` of the full forward pass over `tokens`.
Tensor full_logits_row(const LanguageModel& model, const std::vector<std::int32_t>& tokens,
                       std::int64_t position) {
  return model.logits(ids_of(tokens, 0, kContext)).value().slice(0, position, position + 1);
}

class Decode : public ::testing::TestWithParam<std::tuple<std::string, PositionKind>> {};

TEST_P(Decode, IncrementalLogitsEqualTheFullForwardPassAtEveryPosition) {
  const auto& [variant, position] = GetParam();
  LanguageModel model(testing::tiny_model_config(variant, position, kContext));
  perturb(model);
  Generator generator(5);
  const std::vector<std::int32_t> first = randint({kContext}, 0, 50, generator).to_vector<std::int32_t>();
  const std::vector<std::int32_t> second = randint({kContext}, 0, 50, generator).to_vector<std::int32_t>();

  // Sequence one is prefilled with 5 tokens, sequence two with 3 (one pass each); then both continue
  // one token per step in a single batch until sequence one fills the context.
  DecodeState state_one = model.new_decode_state(), state_two = model.new_decode_state();
  const Tensor prefill_one = model.extend(ids_of(first, 0, 5), {&state_one});
  const Tensor prefill_two = model.extend(ids_of(second, 0, 3), {&state_two});
  for (std::int64_t t = 0; t < 5; ++t) {
    EXPECT_LT(testing::relative_error(prefill_one.slice(0, t, t + 1), full_logits_row(model, first, t)),
              kTolerance)
        << "prefill position " << t;
  }
  EXPECT_LT(testing::relative_error(prefill_two.slice(0, 2, 3), full_logits_row(model, second, 2)),
            kTolerance);

  for (std::int64_t step = 0; step < kContext - 5; ++step) {
    const std::int64_t one_at = 5 + step, two_at = 3 + step;
    const Tensor ids =
        Tensor::from_vector(std::vector<std::int32_t>{first[static_cast<std::size_t>(one_at)],
                                                      second[static_cast<std::size_t>(two_at)]},
                            {2, 1});
    const Tensor logits = model.extend(ids, {&state_one, &state_two});
    EXPECT_LT(testing::relative_error(logits.slice(0, 0, 1), full_logits_row(model, first, one_at)),
              kTolerance)
        << "sequence one, position " << one_at;
    EXPECT_LT(testing::relative_error(logits.slice(0, 1, 2), full_logits_row(model, second, two_at)),
              kTolerance)
        << "sequence two, position " << two_at;
  }
  EXPECT_EQ(state_one.length, kContext);
  EXPECT_THROW((void)model.extend(ids_of(first, 0, 1), {&state_one}), Error);
}

// The copy moves first and again last, so a clone sharing any cache tensor with its original (keys,
// values or convolution history) would leave one of the two continuations wrong.
TEST_P(Decode, AClonedStateContinuesIndependently) {
  const auto& [variant, position] = GetParam();
  LanguageModel model(testing::tiny_model_config(variant, position, kContext));
  perturb(model);
  DecodeState original = model.new_decode_state();
  (void)model.extend(ids_of({4, 8, 15, 16}, 0, 4), {&original});
  DecodeState copy = original.clone();
  (void)model.extend(ids_of({42}, 0, 1), {&copy});
  const Tensor from_original = model.extend(ids_of({23}, 0, 1), {&original});
  const Tensor from_copy = model.extend(ids_of({7}, 0, 1), {&copy});
  const auto full = [&](const std::vector<std::int32_t>& ids) {
    DecodeState fresh = model.new_decode_state();
    const auto length = static_cast<std::int64_t>(ids.size());
    return model.extend(ids_of(ids, 0, length), {&fresh}).slice(0, length - 1, length);
  };
  EXPECT_LT(testing::relative_error(from_original, full({4, 8, 15, 16, 23})), kTolerance);
  EXPECT_LT(testing::relative_error(from_copy, full({4, 8, 15, 16, 42, 7})), kTolerance);
}

std::string name_of(const ::testing::TestParamInfo<Decode::ParamType>& info) {
  std::string name = std::get<0>(info.param) + "_" + to_string(std::get<1>(info.param));
  for (char& c : name) {
    if (c == '+') c = 'p';
  }
  return name;
}

INSTANTIATE_TEST_SUITE_P(EveryVariantAndPosition, Decode,
                         ::testing::Combine(::testing::ValuesIn(testing::variant_names()),
                                            ::testing::Values(PositionKind::t5_bias, PositionKind::rotary,
                                                              PositionKind::learned, PositionKind::none)),
                         name_of);

}  // namespace
}  // namespace primer
