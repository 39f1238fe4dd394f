#pragma once
// A compute-versus-loss suite (the paper's small-scale sweep): variants x model sizes, each trained by
// the trainer users run, on one dataset with one shared recipe and a step budget per size. The file
// format is in docs/curves.md; every error names the suite file, the line and the key, and a suite is
// checked whole (every run's config built) before anything trains.
#include <string>
#include <vector>

#include "primer/train/train_config.h"
#include "primer/train/training_plan.h"

namespace primer::bench {

struct SuiteSize {
  std::string name;
  std::int64_t d_model = 0;
  std::int64_t num_layers = 0;
  std::int64_t num_heads = 0;
  double d_ff_ratio = 4.0;  // d_ff = ratio x d_model; 2/3 of that for gated feed-forwards (SwiGLU)
  std::int64_t steps = 0;   // the size's budget
};

struct CurvesSuite {
  std::string source;  // the suite file
  std::string name;
  std::string dataset;                 // token shards (primer-data encode)
  std::string recipe;                  // a training config: optimizer, schedule, batch, seq_len, eval batches
  std::vector<std::string> overrides;  // `set:`, applied to the recipe for every run
  std::vector<std::string> variants;
  std::string baseline;  // the variant speedups are measured against
  std::vector<SuiteSize> sizes;
  std::int64_t evaluations = 8;  // validation points per run
  std::string held_out_text;     // optional: text no model trained on, evaluated at the end of each run
};

// One (variant, size) training.
struct SuiteRun {
  std::string id;  // "<variant>-<size>", the run directory's name
  std::string variant;
  SuiteSize size;
  train::TrainConfig config;
  train::TrainingPlan plan;  // its parameters and training FLOPs
  std::string fingerprint;   // of the resolved config: a changed suite changes it
};

CurvesSuite load_suite(const std::string& path);
// Every run's training config, its run directory under out_directory/runs.
std::vector<SuiteRun> plan_suite(const CurvesSuite& suite, const std::string& out_directory);

}  // namespace primer::bench
