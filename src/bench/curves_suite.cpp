#include "primer/bench/curves_suite.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "primer/config/config_node.h"
#include "primer/data/token_loader.h"
#include "primer/models/variants.h"

namespace primer::bench {
namespace {

namespace fs = std::filesystem;

std::int64_t positive(const ConfigNode& node, const std::string& key) {
  const auto value = node.get<std::int64_t>(key);
  if (value <= 0) node.fail(key, fmt::format("must be positive, got {}", value));
  return value;
}

// A path in the suite is relative to the directory the command runs in, as configs' paths are.
void require_path(const ConfigNode& node, const std::string& key, const std::string& path,
                  const std::string& what) {
  if (!fs::exists(path))
    node.fail(key, fmt::format("{} '{}' does not exist{}", what, path,
                               key == "dataset" ? " (make it with primer-data encode; "
                                                  "tools/quickstart.sh makes data/prose_mix_tokens)"
                                                : ""));
}

SuiteSize read_size(const ConfigNode& node) {
  SuiteSize size;
  size.name = node.get<std::string>("name");
  size.d_model = positive(node, "d_model");
  size.num_layers = positive(node, "num_layers");
  size.num_heads = positive(node, "num_heads");
  size.d_ff_ratio = node.get_or("d_ff_ratio", size.d_ff_ratio);
  size.steps = positive(node, "steps");
  if (size.d_model % size.num_heads != 0) {
    node.fail("num_heads",
              fmt::format("d_model {} is not divisible by num_heads {}", size.d_model, size.num_heads));
  }
  if (!(size.d_ff_ratio > 0)) node.fail("d_ff_ratio", "must be positive");
  node.reject_unknown_keys();
  return size;
}

// FNV-1a: a stable fingerprint of a run's resolved config.
std::string fingerprint(const std::string& text) {
  std::uint64_t hash = 1469598103934665603ULL;
  for (const char c : text) hash = (hash ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
  return fmt::format("{:016x}", hash);
}

}  // namespace

CurvesSuite load_suite(const std::string& path) {
  const ConfigNode root = ConfigNode::load_file(path);
  CurvesSuite suite;
  suite.source = path;
  suite.name = root.get<std::string>("name");
  suite.dataset = root.get<std::string>("dataset");
  require_path(root, "dataset", suite.dataset, "the dataset");
  try {
    data::open_dataset(suite.dataset);
  } catch (const Error& error) {
    root.fail("dataset", error.what());
  }
  suite.recipe = root.get<std::string>("recipe");
  require_path(root, "recipe", suite.recipe, "the recipe");
  if (root.has("set")) suite.overrides = root.get_strings("set");
  suite.variants = root.get_strings("variants");
  for (std::size_t i = 0; i < suite.variants.size(); ++i) {
    if (find_variant(suite.variants[i]) == nullptr) {
      std::string known;
      for (const Variant& variant : kVariants)
        known += (known.empty() ? "" : ", ") + std::string(variant.name);
      root.fail_item("variants", i,
                     fmt::format("unknown variant '{}' (known: {})", suite.variants[i], known));
    }
  }
  suite.baseline = root.get_or<std::string>("baseline", "vanilla");
  if (std::find(suite.variants.begin(), suite.variants.end(), suite.baseline) == suite.variants.end()) {
    root.fail("baseline", fmt::format("'{}' is not one of the suite's variants", suite.baseline));
  }
  const std::vector<ConfigNode> sizes = root.sections("sizes");
  if (sizes.empty()) root.fail("sizes", "needs at least one size");
  for (const ConfigNode& node : sizes) {
    suite.sizes.push_back(read_size(node));
    for (std::size_t j = 0; j + 1 < suite.sizes.size(); ++j) {
      if (suite.sizes[j].name == suite.sizes.back().name) node.fail("name", "another size has this name");
    }
  }
  suite.evaluations = root.get_or<std::int64_t>("evaluations", suite.evaluations);
  if (suite.evaluations < 2) root.fail("evaluations", "needs at least 2 points per run");
  if (root.has("held_out_text")) {
    suite.held_out_text = root.get<std::string>("held_out_text");
    require_path(root, "held_out_text", suite.held_out_text, "the held-out text");
  }
  root.reject_unknown_keys();
  // Every run's config, built now: an impossible size fails here, not after hours of other runs.
  plan_suite(suite, fs::temp_directory_path().string());
  return suite;
}

std::vector<SuiteRun> plan_suite(const CurvesSuite& suite, const std::string& out_directory) {
  const ConfigNode root = ConfigNode::load_file(suite.source);
  const std::vector<ConfigNode> size_nodes = root.sections("sizes");
  std::vector<SuiteRun> runs;
  for (const std::string& variant : suite.variants) {
    const bool gated = find_variant(variant)->feed_forward == nn::FeedForwardKind::swiglu;
    for (std::size_t s = 0; s < suite.sizes.size(); ++s) {
      const SuiteSize& size = suite.sizes[s];
      const std::string id = variant + "-" + size.name;
      const double d_ff = size.d_ff_ratio * static_cast<double>(size.d_model) * (gated ? 2.0 / 3.0 : 1.0);
      const std::int64_t steps_per_evaluation = std::max<std::int64_t>(1, size.steps / suite.evaluations);
      std::vector<std::string> overrides = suite.overrides;
      for (const std::string& assignment :
           {fmt::format("model.variant={}", variant), fmt::format("model.d_model={}", size.d_model),
            fmt::format("model.num_layers={}", size.num_layers),
            fmt::format("model.num_heads={}", size.num_heads),
            fmt::format("model.d_ff={}", std::llround(d_ff)), fmt::format("data.directory={}", suite.dataset),
            fmt::format("training.steps={}", size.steps), fmt::format("eval.every={}", steps_per_evaluation),
            fmt::format("checkpoint.every={}", steps_per_evaluation), std::string("checkpoint.keep=1"),
            fmt::format("checkpoint.directory={}", (fs::path(out_directory) / "runs" / id).string())}) {
        overrides.push_back(assignment);
      }
      const train::TrainConfig config = [&] {
        try {
          return train::load_train_config(suite.recipe, overrides);
        } catch (const Error& error) {
          size_nodes[s].fail("name", fmt::format("variant {} at this size: {}", variant, error.what()));
        }
      }();
      runs.push_back(
          {id, variant, size, config, train::plan_training(config), fingerprint(config.resolved_yaml)});
    }
  }
  return runs;
}

}  // namespace primer::bench
