// Language models: parameter counts (analytic against instantiated, and the paper's sizes), seeded
// determinism, safetensors round trips and the errors of bad weight files.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>

#include "primer/io/safetensors.h"
#include "primer/models/language_model.h"
#include "primer/models/model_stats.h"
#include "temporary.h"
#include "tiny_model.h"

#ifndef PRIMER_SOURCE_DIR
#error "PRIMER_SOURCE_DIR must point at the repository"
#endif

namespace primer {
namespace {

using testing::temporary_path;

std::string temporary(const std::string& name) {
  return temporary_path(name);
}

ModelConfig tiny(const std::string& variant, PositionKind position) {
  return testing::tiny_model_config(variant, position);
}

TEST(LanguageModel, AnalyticParameterCountMatchesTheBuiltModel) {
  for (const std::string& variant : testing::variant_names()) {
    for (PositionKind position :
         {PositionKind::t5_bias, PositionKind::rotary, PositionKind::learned, PositionKind::none}) {
      for (bool tied : {true, false}) {
        ModelConfig c = tiny(variant, position);
        c.tie_embeddings = tied;
        SCOPED_TRACE(variant + " " + to_string(position) + (tied ? " tied" : " untied"));
        EXPECT_EQ(model_stats(c).parameters, LanguageModel(c).parameter_count());
      }
    }
  }
}

TEST(LanguageModel, PaperConfigsHaveThePaperSizes) {
  const std::pair<const char*, double> sizes[] = {{"lm1b_35m", 35e6}, {"c4_110m", 110e6}, {"c4_500m", 537e6}};
  for (const auto& [prefix, expected] : sizes) {
    for (const std::string& variant : testing::variant_names()) {
      const std::string path = std::string(PRIMER_SOURCE_DIR) + "/configs/" + prefix + "_" +
                               testing::file_name_of(variant) + ".yaml";
      SCOPED_TRACE(path);
      const double parameters = static_cast<double>(model_stats(load_model_config(path)).parameters);
      EXPECT_NEAR(parameters / expected, 1.0, 0.02);
    }
  }
}

TEST(LanguageModel, SameSeedSameWeightsAndParameterNames) {
  const ModelConfig c = tiny("primer", PositionKind::t5_bias);
  const LanguageModel a(c), b(c);
  const auto pa = a.named_parameters(), pb = b.named_parameters();
  ASSERT_EQ(pa.size(), pb.size());
  for (std::size_t i = 0; i < pa.size(); ++i) {
    EXPECT_EQ(pa[i].name, pb[i].name);
    EXPECT_EQ(pa[i].variable.value().to_vector<float>(), pb[i].variable.value().to_vector<float>());
  }
  EXPECT_EQ(pa.front().name, "embedding.weight");
  EXPECT_EQ(pa[1].name, "relative_bias.weight");
  EXPECT_EQ(pa[2].name, "layers.0.attention_norm.weight");
  EXPECT_EQ(pa[4].name, "layers.0.attention.qk_proj.weight");
}

double standard_deviation(const Tensor& t) {
  const std::vector<float> values = t.to_vector<float>();
  double sum = 0.0, squares = 0.0;
  for (const float v : values) {
    sum += v;
    squares += static_cast<double>(v) * v;
  }
  const double n = static_cast<double>(values.size());
  return std::sqrt(squares / n - (sum / n) * (sum / n));
}

// The official code (t5_models.py): the shared Q/K projection is built as the query's, so it carries the
// 1/sqrt(d_k) fold, std d_model^-0.5 d_k^-0.5; the query mix is a plain dense layer, std (H d_k)^-0.5.
TEST(LanguageModel, FullPrimerInitialisesSharedQKAndQueryMixAsTheOfficialCode) {
  ModelConfig c = tiny("primer", PositionKind::t5_bias);
  c.d_model = 256;
  c.num_heads = 4;
  c.head_dim = 64;
  const LanguageModel model(c);
  std::map<std::string, Tensor> weights;
  for (const nn::NamedParameter& parameter : model.named_parameters())
    weights[parameter.name] = parameter.variable.value();
  const double d_model = 256, d_k = 64, width = 4 * 64;
  EXPECT_NEAR(standard_deviation(weights.at("layers.0.attention.qk_proj.weight")) * std::sqrt(d_model * d_k),
              1.0, 0.05);
  EXPECT_NEAR(standard_deviation(weights.at("layers.0.attention.q_mix.weight")) * std::sqrt(width), 1.0,
              0.05);
  EXPECT_NEAR(standard_deviation(weights.at("layers.0.attention.v_proj.weight")) * std::sqrt(d_model), 1.0,
              0.05);
}

TEST(LanguageModel, WeightsRoundTripThroughSafetensors) {
  const ModelConfig c = tiny("primer_ez", PositionKind::t5_bias);
  LanguageModel saved(c);
  saved.save_weights(temporary("weights.safetensors"));
  ModelConfig other_seed = c;
  other_seed.init_seed = 7;
  LanguageModel loaded(other_seed);
  loaded.load_weights(temporary("weights.safetensors"));
  const Tensor ids = Tensor::from_vector(std::vector<std::int32_t>{1, 2, 3, 4, 5, 6}, {1, 6});
  EXPECT_EQ(saved.logits(ids).value().to_vector<float>(), loaded.logits(ids).value().to_vector<float>());
}

TEST(LanguageModel, BadWeightFilesAreRejectedByName) {
  const ModelConfig c = tiny("primer_ez", PositionKind::t5_bias);
  LanguageModel model(c);
  const std::string path = temporary("weights.safetensors");
  model.save_weights(path);

  auto expect_error = [&](const std::string& file, const std::string& expected) {
    try {
      model.load_weights(file);
      ADD_FAILURE() << "loaded " << file;
    } catch (const Error& error) {
      EXPECT_NE(std::string(error.what()).find(expected), std::string::npos) << error.what();
    }
  };
  expect_error(temporary("missing.safetensors"), "no such file");

  const auto size = std::filesystem::file_size(path);
  std::filesystem::copy_file(path, temporary("truncated.safetensors"),
                             std::filesystem::copy_options::overwrite_existing);
  std::filesystem::resize_file(temporary("truncated.safetensors"), size - 100);
  expect_error(temporary("truncated.safetensors"), "truncated?");

  std::ofstream(temporary("garbage.safetensors")) << "not a safetensors file at all";
  expect_error(temporary("garbage.safetensors"), "runs past the end of the file");

  ModelConfig wider = c;
  wider.d_model = 32;
  LanguageModel(wider).save_weights(temporary("wider.safetensors"));
  expect_error(temporary("wider.safetensors"),
               "'embedding.weight' has shape [50, 32] but the model expects [50, 16]");

  ModelConfig vanilla = c;
  vanilla.dconv = DConvMode::none;
  LanguageModel(vanilla).save_weights(temporary("vanilla.safetensors"));
  expect_error(temporary("vanilla.safetensors"), "no tensor 'layers.0.attention.q_dconv.weight'");
}

TEST(LanguageModel, RejectsSequencesLongerThanTheContext) {
  const LanguageModel model(tiny("vanilla", PositionKind::learned));
  const Tensor ids = Tensor::zeros({1, 13}, DType::i32);
  EXPECT_THROW((void)model.logits(ids), Error);
}

}  // namespace
}  // namespace primer
