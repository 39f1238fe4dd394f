// primer-bench curves --suite benchmarks/suites/NAME.yaml --out DIR [--check]
// The paper's compute-versus-loss curves for a suite of variants x model sizes (docs/curves.md): trains
// every run through the trainer primer-train uses, resumably (rerun the same command after an
// interruption or a change to the suite), then fits and draws the curves and writes DIR/report.md.
// --check validates the suite and prints its runs without training.
// primer-bench gemm [--precision fp32|bf16] [--probes N]
// The CPU's matrix-product rate, as primer-train measures it for its MFU, probed N times: each probe and
// the best, which the throughput benchmarks pass to every run (logging.peak_tflops) so that all runs of
// one benchmark divide by the same figure.
// Exit status: 0 when the report is written, 128 + N when signal N stopped the suite, 1 on an error.
#include <fmt/format.h>
#include <omp.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "primer/backend/cuda_info.h"
#include "primer/bench/curves_report.h"
#include "primer/bench/curves_runner.h"
#include "primer/core/logging.h"
#include "primer/core/subprocess.h"
#include "primer/ops/matmul_peak.h"
#include "primer/train/stop_signals.h"
#include "primer_build_identity.h"

namespace {

namespace fs = std::filesystem;

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("model name")) return line.substr(line.find(':') + 2);
  }
  return "unknown CPU";
}

std::string describe_machine() {
  const primer::CudaInfo cuda = primer::cuda_info();
  return fmt::format("{}, {} OpenMP thread(s); {}", cpu_model(), omp_get_max_threads(),
                     cuda.device_count > 0 ? "GPU " + cuda.device_name : "no GPU");
}

// primer-eval, the program beside this one, on a finished run: the suite's held-out numbers are what
// users get from it by hand.
primer::bench::HeldOutResult evaluate_with_primer_eval(const std::string& run_directory,
                                                       const std::string& text) {
  const fs::path program = fs::canonical("/proc/self/exe").parent_path() / "primer-eval";
  const std::vector<std::string> command{program.string(), "--checkpoint", run_directory,
                                         "--text",         text,           "--json"};
  const primer::ProgramResult run = primer::run_program(command, true);
  const std::string& output = run.output;
  const std::size_t record_start = output.rfind('{');
  const nlohmann::json record = record_start == std::string::npos
                                    ? nlohmann::json()
                                    : nlohmann::json::parse(output.substr(record_start), nullptr, false);
  PRIMER_CHECK(run.status == 0 && record.is_object() && record.contains("loss"),
               "{} --checkpoint {} --text {} --json (exit status {}) gave no result: {}", program.string(),
               run_directory, text, run.status, output);
  primer::bench::HeldOutResult result{record["loss"].get<double>(), std::nullopt};
  if (!record["bits_per_byte"].is_null()) result.bits_per_byte = record["bits_per_byte"].get<double>();
  return result;
}

}  // namespace

int main(int argc, char** argv) {
  // First, so that every thread made later inherits the blocked signals (train/stop_signals.h).
  primer::train::take_stop_signals_on_their_own_thread();
  CLI::App app{"primer-bench: benchmark suites over the trainer"};
  app.require_subcommand(1);
  CLI::App* curves = app.add_subcommand("curves", "compute-versus-loss curves of a suite (docs/curves.md)");
  std::string suite_path, out_directory;
  bool check_only = false;
  curves->add_option("--suite", suite_path, "suite file, e.g. benchmarks/suites/cpu_small.yaml")->required();
  curves->add_option("--out", out_directory, "directory for the runs, the plots and report.md")->required();
  curves->add_flag("--check", check_only, "validate the suite and list its runs; train nothing");
  CLI::App* gemm = app.add_subcommand("gemm", "the CPU's 1024^3 matrix-product rate, best of several probes");
  std::string precision = "fp32";
  int probes = 5;
  gemm->add_option("--precision", precision, "fp32 or bf16 (bf16 inputs, f32 result)")
      ->check(CLI::IsMember({"fp32", "bf16"}));
  gemm->add_option("--probes", probes, "probes, each the best of 5 products")->check(CLI::Range(1, 100));
  CLI11_PARSE(app, argc, argv);
  if (gemm->parsed()) {
    const primer::DType dtype = precision == "bf16" ? primer::DType::bf16 : primer::DType::f32;
    double best = 0.0;
    for (int probe = 1; probe <= probes; ++probe) {
      const primer::MatmulPeak peak = primer::measure_cpu_matmul_peak(dtype, 5);
      fmt::print("probe {}: {:.4f} TFLOP/s ({})\n", probe, peak.tflops, peak.source);
      best = std::max(best, peak.tflops);
    }
    fmt::print("gemm {} best of {} probes: {:.4f} TFLOP/s\n", precision, probes, best);
    return EXIT_SUCCESS;
  }
  try {
    const primer::bench::CurvesSuite suite = primer::bench::load_suite(suite_path);
    if (check_only) {
      fmt::print("suite {}: {} variants x {} sizes\n", suite.name, suite.variants.size(), suite.sizes.size());
      for (const primer::bench::SuiteRun& run : primer::bench::plan_suite(suite, out_directory)) {
        fmt::print("  {:<24} {:>10} parameters  d_ff {:>5}  {:>6} steps  {:.3g} FLOPs\n", run.id,
                   run.plan.parameters, run.config.model.d_ff, run.config.steps, run.plan.total_flops);
      }
      return EXIT_SUCCESS;
    }
    const primer::bench::SuiteOutcome outcome =
        primer::bench::run_suite(suite, out_directory, evaluate_with_primer_eval);
    if (outcome.stop_signal != 0) return 128 + outcome.stop_signal;
    const std::string report = primer::bench::write_curves_report(
        suite, outcome, out_directory,
        {fmt::format("primer-bench curves --suite {} --out {}", suite_path, out_directory),
         describe_machine(), fmt::format("commit {}, {} build", PRIMER_BUILD_COMMIT, PRIMER_BUILD_TYPE)});
    primer::log().info("report: {}", report);
    return EXIT_SUCCESS;
  } catch (const std::exception& error) {
    fmt::print(stderr, "primer-bench: {}\n", error.what());
    return EXIT_FAILURE;
  }
}
