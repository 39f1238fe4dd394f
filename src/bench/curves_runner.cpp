#include "primer/bench/curves_runner.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "primer/core/logging.h"
#include "primer/core/progress.h"
#include "primer/io/checkpoint_format.h"
#include "primer/train/trainer.h"

namespace primer::bench {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// A run directory's marker: its config's fingerprint and whether it finished. A directory the suite did
// not make, or whose marker is unreadable, is refused rather than replaced: it may hold someone's run.
json read_marker(const fs::path& directory) {
  const fs::path path = directory / "suite_run.json";
  if (!fs::exists(path)) {
    PRIMER_CHECK(!fs::exists(directory) || fs::is_empty(directory),
                 "{} holds files but no suite_run.json: primer-bench did not make it; move it away or choose "
                 "another --out",
                 directory.string());
    return json::object();
  }
  const json record = json::parse(std::ifstream(path), nullptr, false);
  PRIMER_CHECK(record.is_object() && record.contains("fingerprint"),
               "{}: unreadable; remove the run directory to train the run again", path.string());
  return record;
}

void write_json(const fs::path& path, const json& record) {
  const fs::path temporary = path.string() + ".tmp";
  std::ofstream(temporary) << record.dump(2) << "\n";
  fs::rename(temporary, path);
}

std::vector<CurvePoint> read_curve(const fs::path& metrics) {
  std::vector<CurvePoint> curve;
  std::ifstream in(metrics);
  for (std::string line; std::getline(in, line);) {
    const json record = json::parse(line, nullptr, false);
    if (!record.is_object() || !record.contains("validation_loss") || !record.contains("training_flops"))
      continue;
    curve.push_back({record["training_flops"].get<double>(), record["training_seconds"].get<double>(),
                     record["validation_loss"].get<double>()});
  }
  return curve;
}

}  // namespace

SuiteOutcome run_suite(const CurvesSuite& suite, const std::string& out_directory,
                       const HeldOutEvaluator& evaluate_held_out) {
  const std::vector<SuiteRun> runs = plan_suite(suite, out_directory);
  double total_flops = 0;
  for (const SuiteRun& run : runs) total_flops += run.plan.total_flops;
  log().info("suite {}: {} runs ({} variants x {} sizes), {:.3g} training FLOPs in all, into {}", suite.name,
             runs.size(), suite.variants.size(), suite.sizes.size(), total_flops, out_directory);
  SuiteOutcome outcome;
  const auto start = std::chrono::steady_clock::now();
  double flops_done = 0, flops_done_here = 0;
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const SuiteRun& run = runs[i];
    const double run_flops = run.plan.total_flops;
    const fs::path directory = run.config.run_directory;
    const fs::path marker = directory / "suite_run.json";
    json state = read_marker(directory);
    RunOutcome result{run, {}, std::nullopt};
    if (state.value("fingerprint", "") != run.fingerprint) {
      if (state.contains("fingerprint")) {
        log().info("[{}/{}] {}: the suite changed this run's config; starting it over", i + 1, runs.size(),
                   run.id);
        fs::remove_all(directory);
      }
      fs::create_directories(directory);
      state = {{"fingerprint", run.fingerprint}, {"finished", false}};
      write_json(marker, state);
    }
    if (state.value("finished", false)) {
      log().info("[{}/{}] {}: already finished, skipped", i + 1, runs.size(), run.id);
    } else {
      const bool resume = !checkpoints_newest_first((directory / "checkpoints").string()).empty();
      log().info("[{}/{}] {}: {} ({} parameters, {} steps, {:.3g} FLOPs)", i + 1, runs.size(), run.id,
                 resume ? "resuming" : "training", run.plan.parameters, run.config.steps, run_flops);
      train::Trainer trainer(run.config);
      const train::TrainResult trained = trainer.run(resume);
      if (trained.interrupted) {
        outcome.stop_signal = trained.stop_signal;
        log().warn("suite stopped by signal {} in {}; rerun the same command to go on", trained.stop_signal,
                   run.id);
        return outcome;
      }
      if (!suite.held_out_text.empty()) {
        const HeldOutResult held_out = evaluate_held_out(directory.string(), suite.held_out_text);
        state["held_out"] = {{"loss", held_out.loss}};
        if (held_out.bits_per_byte) state["held_out"]["bits_per_byte"] = *held_out.bits_per_byte;
      }
      state["finished"] = true;
      write_json(marker, state);
      flops_done_here += run_flops;
    }
    if (state.contains("held_out")) {
      const json& held_out = state["held_out"];
      result.held_out = HeldOutResult{held_out["loss"].get<double>(), std::nullopt};
      if (held_out.contains("bits_per_byte"))
        result.held_out->bits_per_byte = held_out["bits_per_byte"].get<double>();
    }
    result.curve = read_curve(directory / "metrics.jsonl");
    PRIMER_CHECK(!result.curve.empty(), "{}: no validation points in metrics.jsonl", directory.string());
    outcome.runs.push_back(result);
    flops_done += run_flops;
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    log().info("suite {}: {}/{} runs, {:.0f}% of its FLOPs done{}", suite.name, i + 1, runs.size(),
               100.0 * flops_done / total_flops,
               flops_done_here > 0
                   ? ", ETA " + format_duration(elapsed / flops_done_here * (total_flops - flops_done))
                   : "");
  }
  return outcome;
}

}  // namespace primer::bench
