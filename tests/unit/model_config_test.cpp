// Malformed model configs: each must fail with a ConfigError naming the file, the line and the key.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "primer/models/model_config.h"
#include "temporary.h"

namespace primer {
namespace {

constexpr const char* kValid = R"(model:
  variant: primer_ez
  vocab_size: 100
  d_model: 32
  num_layers: 2
  num_heads: 4
  d_ff: 64
  max_seq_len: 16
)";

struct BadConfig {
  const char* name;
  std::string yaml;
  std::string expected;  // a substring of the error, "config.yaml:LINE: key.path: ..." where it applies
};

std::string with(const std::string& from, const std::string& to) {
  std::string text = kValid;
  text.replace(text.find(from), from.size(), to);
  return text;
}

std::string write_config(const std::string& text) {
  const std::string path = testing::temporary_path("config.yaml");
  std::ofstream(path) << text;
  return path;
}

TEST(ModelConfig, ValidConfigAppliesTheVariantPreset) {
  const ModelConfig c = load_model_config(write_config(kValid));
  EXPECT_EQ(c.head_dim, 8);
  EXPECT_EQ(c.feed_forward, FeedForwardKind::squared_relu);
  EXPECT_EQ(c.dconv, DConvMode::separate);
  const ModelConfig ablation =
      load_model_config(write_config(with("primer_ez", "vanilla\n  feed_forward: squared_relu")));
  EXPECT_EQ(ablation.feed_forward, FeedForwardKind::squared_relu);
  EXPECT_EQ(ablation.dconv, DConvMode::none);
}

TEST(ModelConfig, MalformedConfigsGiveClearErrors) {
  const std::vector<BadConfig> cases = {
      {"syntax error", "model:\n  d_model: [32\n", "YAML syntax error"},
      {"top level is a list", "- model\n", "top level must be a mapping"},
      {"no model section", "data:\n  path: x\n", "model: missing section"},
      {"model is a scalar", "model: 5\n", "config.yaml:1: model: expected a mapping, got '5'"},
      {"misspelt key", with("d_ff: 64", "d_fff: 64"), "model.d_ff: missing"},
      {"unknown key with a hint", with("  d_ff: 64\n", "  d_ff: 64\n  num_layer: 3\n"),
       "config.yaml:8: model.num_layer: unknown key; did you mean 'model.num_layers'?"},
      {"integer given as text", with("d_model: 32", "d_model: abc"),
       "config.yaml:4: model.d_model: expected an integer, got 'abc'"},
      {"integer given as a fraction", with("vocab_size: 100", "vocab_size: 1.5"),
       "config.yaml:3: model.vocab_size: expected an integer, got '1.5'"},
      {"negative size", with("num_layers: 2", "num_layers: -2"),
       "model.num_layers: must be positive, got -2"},
      {"heads do not divide d_model", with("num_heads: 4", "num_heads: 5"),
       "model.num_heads: d_model 32 is not divisible by num_heads 5"},
      {"unknown variant", with("primer_ez", "primer_xl"), "model.variant: 'primer_xl' is not one of"},
      {"unknown activation", with("  d_ff: 64\n", "  d_ff: 64\n  feed_forward: tanh\n"),
       "model.feed_forward: 'tanh' is not one of {gelu, relu, squared_relu, swiglu}"},
      {"unknown norm", with("  d_ff: 64\n", "  d_ff: 64\n  norm: batch_norm\n"),
       "model.norm: 'batch_norm' is not one of"},
      {"bool given as text", with("  d_ff: 64\n", "  d_ff: 64\n  ffn_bias: maybe\n"),
       "model.ffn_bias: expected true or false, got 'maybe'"},
      {"zero epsilon", with("  d_ff: 64\n", "  d_ff: 64\n  norm_eps: 0\n"),
       "model.norm_eps: must be positive"},
      {"rotary with odd head_dim", with("  d_ff: 64\n", "  d_ff: 64\n  head_dim: 7\n  position: rotary\n"),
       "rotary embeddings need an even head_dim, got 7"},
      {"bucket distance too short", with("  d_ff: 64\n", "  d_ff: 64\n  relative_max_distance: 10\n"),
       "model.relative_max_distance: must exceed relative_buckets / 2 = 16"},
      {"list where a number belongs", with("d_ff: 64", "d_ff: [64, 128]"),
       "model.d_ff: expected an integer, got a list"},
      {"rotary base too small", with("  d_ff: 64\n", "  d_ff: 64\n  rotary_base: 1.0\n"),
       "model.rotary_base: must be greater than 1"},
      {"missing value", with("d_model: 32", "d_model:"), "model.d_model: missing; expected an integer"},
  };
  ASSERT_GE(cases.size(), 15u);
  for (const BadConfig& bad : cases) {
    SCOPED_TRACE(bad.name);
    const std::string path = write_config(bad.yaml);
    try {
      (void)load_model_config(path);
      ADD_FAILURE() << "accepted a bad config";
    } catch (const ConfigError& error) {
      const std::string message = error.what();
      EXPECT_NE(message.find(bad.expected), std::string::npos) << message;
      EXPECT_EQ(message.rfind(path, 0), 0u) << "the message must start with the file name: " << message;
    }
  }
}

TEST(ModelConfig, MissingFileIsNamed) {
  try {
    (void)load_model_config("/nonexistent/model.yaml");
    FAIL() << "a missing file must throw";
  } catch (const ConfigError& error) {
    EXPECT_STREQ(error.what(), "/nonexistent/model.yaml: cannot open config file (no such file)");
  }
}

}  // namespace
}  // namespace primer
