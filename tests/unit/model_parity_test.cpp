// Every variant with every position scheme against the independent PyTorch model in
// tests/reference/model_reference.py: same safetensors weights and tokens, so the same logits, loss and
// parameter gradients (f32 here against f64 there: relative error below 1e-4).
#include <gtest/gtest.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include "comparison.h"

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "primer/io/safetensors.h"
#include "primer/models/language_model.h"
#include "primer/tensor/random.h"
#include "temporary.h"
#include "tiny_model.h"

#ifndef PRIMER_SOURCE_DIR
#error "PRIMER_SOURCE_DIR must point at the repository"
#endif
#ifndef PRIMER_REFERENCE_PYTHON
#error "PRIMER_REFERENCE_PYTHON must name the interpreter that has torch"
#endif

namespace primer {
namespace {

using testing::relative_error;

namespace fs = std::filesystem;
constexpr double kZLoss = 1e-4;
constexpr std::int64_t kBatch = 2, kTime = 11;

struct ParityCase {
  std::string variant;
  PositionKind position;
  std::string name() const {
    std::string text = variant + "_" + to_string(position);
    for (char& c : text) c = std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
    return text;
  }
};

// Built from YAML through the variant's name, so the presets themselves are under test: the reference
// gets only the name and derives the variant's switches (and the logit scale) on its own.
ModelConfig config_for(const ParityCase& parity, std::int64_t seed) {
  // Odd sizes; 8 buckets reaching 12 positions so T = 11 exercises T5's logarithmic buckets too. One
  // untied model and one with an explicit logit scale keep those switches covered.
  const std::string yaml = fmt::format(
      "model:\n  variant: {}\n  vocab_size: 37\n  d_model: 24\n  num_layers: 2\n  num_heads: 3\n"
      "  head_dim: 8\n  d_ff: {}\n  max_seq_len: 16\n  relative_buckets: 8\n  relative_max_distance: 12\n"
      "  position: {}\n  init_seed: {}\n  tie_embeddings: {}\n  fold_attention_scale: {}\n",
      parity.variant, parity.variant == "transformer++" ? 27 : 40, to_string(parity.position), seed,
      parity.variant != "gelu", parity.variant != "vanilla");
  return read_model_config(ConfigNode::parse(yaml, "parity.yaml").section("model"));
}

nlohmann::json to_json(const ModelConfig& c) {
  return {{"variant", c.variant},
          {"d_model", c.d_model},
          {"num_layers", c.num_layers},
          {"num_heads", c.num_heads},
          {"head_dim", c.head_dim},
          {"position", to_string(c.position)},
          {"tie_embeddings", c.tie_embeddings},
          {"fold_attention_scale", c.fold_attention_scale},
          {"norm_eps", c.norm_eps},
          {"relative_buckets", c.relative_buckets},
          {"relative_max_distance", c.relative_max_distance},
          {"rotary_base", c.rotary_base}};
}

std::vector<ParityCase> all_cases() {
  std::vector<ParityCase> cases;
  for (const std::string& variant : testing::variant_names()) {
    for (PositionKind position :
         {PositionKind::t5_bias, PositionKind::rotary, PositionKind::learned, PositionKind::none}) {
      cases.push_back({variant, position});
    }
  }
  return cases;
}

fs::path work_directory() {
  return fs::path(testing::temporary_path("model_parity"));
}

// Constant initial values (norm scales of 1, zero biases, MDHA's fixed taps) would hide mistakes that
// a parameter's exact value makes invisible, so every parameter is perturbed before the comparison.
void perturb(const LanguageModel& model, Generator& generator) {
  for (const nn::NamedParameter& parameter : model.named_parameters()) {
    const Tensor& value = parameter.variable.value();
    const Tensor noise = randn(value.shape(), DType::f32, generator, 0.2);
    std::vector<float> values = value.to_vector<float>();
    const std::vector<float> deltas = noise.to_vector<float>();
    for (std::size_t i = 0; i < values.size(); ++i) values[i] += deltas[i];
    value.copy_from(Tensor::from_vector(values, value.shape()));
  }
}

void expect_parity(const ParityCase& parity, const ModelConfig& config, const fs::path& base) {
  LanguageModel model(config);
  model.load_weights(base.string() + ".weights.safetensors");
  const auto batch = load_safetensors(base.string() + ".batch.safetensors");
  const auto expected = load_safetensors(base.string() + ".expected.safetensors");

  const Variable logits = model.logits(batch.at("ids"));
  EXPECT_LT(relative_error(logits.value(), expected.at("logits")), 1e-4) << "logits";
  const Variable loss = model.loss(batch.at("ids"), batch.at("targets"), kZLoss);
  EXPECT_LT(relative_error(loss.value(), expected.at("loss")), 1e-5) << "loss " << loss.value().item();
  loss.backward();
  const auto parameters = model.named_parameters();
  EXPECT_EQ(parameters.size() + 2, expected.size())
      << parity.name() << ": the reference saw other parameters";
  for (const nn::NamedParameter& parameter : parameters) {
    ASSERT_TRUE(expected.count("grad." + parameter.name)) << parameter.name;
    EXPECT_LT(relative_error(parameter.variable.grad(), expected.at("grad." + parameter.name)), 1e-4)
        << "gradient of " << parameter.name;
  }
}

// One process writes every case, runs the reference once (importing torch takes seconds), then compares.
TEST(ModelParity, EveryVariantAndPositionSchemeMatchesPyTorch) {
  fs::remove_all(work_directory());
  fs::create_directories(work_directory());
  nlohmann::json manifest{{"cases", nlohmann::json::array()}};
  Generator generator(2026);
  const std::vector<ParityCase> cases = all_cases();
  std::vector<ModelConfig> configs;
  for (const ParityCase& parity : cases) {
    configs.push_back(config_for(parity, static_cast<std::int64_t>(configs.size())));
    const LanguageModel model(configs.back());
    perturb(model, generator);
    const fs::path base = work_directory() / parity.name();
    model.save_weights(base.string() + ".weights.safetensors");
    const auto vocab = static_cast<std::int32_t>(configs.back().vocab_size);
    save_safetensors(base.string() + ".batch.safetensors",
                     {{"ids", randint({kBatch, kTime}, 0, vocab, generator)},
                      {"targets", randint({kBatch, kTime}, 0, vocab, generator)}});
    manifest["cases"].push_back({{"config", to_json(configs.back())},
                                 {"z_loss", kZLoss},
                                 {"weights", base.string() + ".weights.safetensors"},
                                 {"batch", base.string() + ".batch.safetensors"},
                                 {"output", base.string() + ".expected.safetensors"}});
  }
  const fs::path manifest_path = work_directory() / "manifest.json";
  std::ofstream(manifest_path) << manifest.dump(2);
  const std::string command = std::string(PRIMER_REFERENCE_PYTHON) + " " + PRIMER_SOURCE_DIR +
                              "/tests/reference/model_reference.py " + manifest_path.string();
  ASSERT_EQ(std::system(command.c_str()), 0) << "the PyTorch reference model failed: " << command;

  for (std::size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(cases[i].name());
    expect_parity(cases[i], configs[i], work_directory() / cases[i].name());
  }
}

}  // namespace
}  // namespace primer
