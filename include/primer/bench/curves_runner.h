#pragma once
// Runs a suite's trainings one after another through the trainer users run, each in its own run
// directory (OUT/runs/<variant>-<size>), resumably: a finished run is skipped, an interrupted one
// resumed from its checkpoint, and a run whose config the suite file changed starts over (its
// fingerprint, in OUT/runs/<id>/suite_run.json, no longer matches). A signal stops the suite after the
// current run's checkpoint.
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "primer/bench/curves_analysis.h"
#include "primer/bench/curves_suite.h"

namespace primer::bench {

struct HeldOutResult {
  double loss = 0;
  std::optional<double> bits_per_byte;
};

struct RunOutcome {
  SuiteRun run;
  std::vector<CurvePoint> curve;  // the validation evaluations, in order
  std::optional<HeldOutResult> held_out;
};

struct SuiteOutcome {
  std::vector<RunOutcome> runs;  // those finished, in the suite's order
  int stop_signal = 0;           // non-zero when a signal stopped the suite before its end
};

// Evaluates a finished run directory on the suite's held-out text (primer-eval).
using HeldOutEvaluator =
    std::function<HeldOutResult(const std::string& run_directory, const std::string& text)>;

SuiteOutcome run_suite(const CurvesSuite& suite, const std::string& out_directory,
                       const HeldOutEvaluator& evaluate_held_out);

}  // namespace primer::bench
