#pragma once
// What a suite measured, drawn and written: OUT/loss_vs_flops.png (every run faint, each variant's
// envelope and fitted power law bold), OUT/loss_vs_seconds.png (the largest size against wall
// seconds), OUT/speedup.png (per size, in FLOPs and in seconds) through gnuplot, and OUT/report.md
// with the tables and fitted exponents, embedding them.
#include <string>

#include "primer/bench/curves_runner.h"

namespace primer::bench {

struct ReportContext {
  std::string command;  // how the suite was run
  std::string machine;  // CPU model, threads, GPU
  std::string build;    // commit and build type
};

// Returns the report's path.
std::string write_curves_report(const CurvesSuite& suite, const SuiteOutcome& outcome,
                                const std::string& out_directory, const ReportContext& context);

}  // namespace primer::bench
