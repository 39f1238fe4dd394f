#include "primer/bench/curves_report.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>

#include "primer/core/logging.h"
#include "primer/core/subprocess.h"

namespace primer::bench {
namespace {

namespace fs = std::filesystem;

// Paul Tol's bright scheme: distinct for colour-blind readers too.
constexpr const char* kColours[] = {"4477aa", "ee6677", "228833", "ccbb44", "66ccee", "aa3377", "bbbbbb"};

std::string colour(std::size_t variant) {
  return kColours[variant % std::size(kColours)];
}

std::string format_or_dash(const std::optional<double>& value, const char* format) {
  return value ? fmt::format(fmt::runtime(format), *value) : "-";
}

std::map<std::string, std::vector<CurvePoint>> points_by_variant(const SuiteOutcome& outcome) {
  std::map<std::string, std::vector<CurvePoint>> points;
  for (const RunOutcome& run : outcome.runs) {
    points[run.run.variant].insert(points[run.run.variant].end(), run.curve.begin(), run.curve.end());
  }
  return points;
}

const RunOutcome* find_run(const SuiteOutcome& outcome, const std::string& variant, const std::string& size) {
  for (const RunOutcome& run : outcome.runs) {
    if (run.run.variant == variant && run.run.size.name == size) return &run;
  }
  return nullptr;
}

void write_points(const fs::path& path, const std::vector<CurvePoint>& points) {
  std::ofstream out(path);
  for (const CurvePoint& point : points)
    out << fmt::format("{:.6e} {:.6e} {:.6f}\n", point.flops, point.seconds, point.loss);
}

bool draw(const CurvesSuite& suite, const SuiteOutcome& outcome, const fs::path& out) {
  const fs::path data = out / "plot_data";
  fs::create_directories(data);
  const auto points = points_by_variant(outcome);
  std::string flops_plot, seconds_plot, speedup_plot;
  const auto add = [](std::string& plot, const std::string& item) {
    plot += (plot.empty() ? "" : ", ") + item;
  };
  for (std::size_t v = 0; v < suite.variants.size(); ++v) {
    const std::string& variant = suite.variants[v];
    if (!points.contains(variant)) continue;
    for (const RunOutcome& run : outcome.runs) {
      if (run.run.variant != variant) continue;
      const fs::path file = data / (run.run.id + ".dat");
      write_points(file, run.curve);
      add(flops_plot, fmt::format("{} using 1:3 with linespoints lw 1 pt 7 ps 0.4 lc rgb '#a0{}' notitle",
                                  gnuplot_string(file.string()), colour(v)));
    }
    const std::vector<CurvePoint> envelope = lower_envelope(points.at(variant));
    const fs::path envelope_file = data / (variant + ".envelope.dat");
    write_points(envelope_file, envelope);
    add(flops_plot,
        fmt::format("{} using 1:3 with linespoints lw 3 pt 7 ps 0.8 lc rgb '#{}' title '{} envelope'",
                    gnuplot_string(envelope_file.string()), colour(v), variant));
    if (const std::optional<PowerLaw> fit = fit_power_law(envelope)) {
      add(flops_plot,
          fmt::format(
              "exp({:.9g} - {:.9g} * log(x)) with lines lw 2 dt 2 lc rgb '#{}' title '{} fit, k = {:.3f}'",
              fit->log_a, fit->k, colour(v), variant, fit->k));
    }
    if (const RunOutcome* largest = find_run(outcome, variant, suite.sizes.back().name)) {
      add(seconds_plot,
          fmt::format("{} using 2:3 with linespoints lw 2 pt 7 ps 0.6 lc rgb '#{}' title '{}'",
                      gnuplot_string((data / (largest->run.id + ".dat")).string()), colour(v), variant));
    }
    if (variant == suite.baseline) continue;
    const fs::path speedup_file = data / (variant + ".speedup.dat");
    {
      std::ofstream speedups(speedup_file);
      for (std::size_t s = 0; s < suite.sizes.size(); ++s) {
        const RunOutcome* base = find_run(outcome, suite.baseline, suite.sizes[s].name);
        const RunOutcome* run = find_run(outcome, variant, suite.sizes[s].name);
        if (base == nullptr || run == nullptr) continue;
        const auto in_flops = speedup(base->curve, run->curve, Cost::flops);
        const auto in_seconds = speedup(base->curve, run->curve, Cost::seconds);
        speedups << fmt::format("{} {} {} {}\n", s, suite.sizes[s].name,
                                in_flops ? fmt::format("{:.4f}", *in_flops) : "NaN",
                                in_seconds ? fmt::format("{:.4f}", *in_seconds) : "NaN");
      }
    }
    add(speedup_plot,
        fmt::format("{} using 1:3:xticlabels(2) with linespoints lw 2 pt 7 lc rgb '#{}' title '{} (FLOPs)'",
                    gnuplot_string(speedup_file.string()), colour(v), variant));
    add(speedup_plot,
        fmt::format("{} using 1:4 with linespoints lw 2 dt 2 pt 5 lc rgb '#{}' title '{} (seconds)'",
                    gnuplot_string(speedup_file.string()), colour(v), variant));
  }
  // Losses and costs span a fraction of a decade or two: the ranges are the data's, not whole decades,
  // and the loss axis gets round tics (a log axis would label none).
  double lowest = 1e300, highest = 0, cheapest = 1e300, dearest = 0;
  for (const RunOutcome& run : outcome.runs) {
    for (const CurvePoint& point : run.curve) {
      lowest = std::min(lowest, point.loss);
      highest = std::max(highest, point.loss);
      cheapest = std::min(cheapest, point.flops);
      dearest = std::max(dearest, point.flops);
    }
  }
  const double tic = highest - lowest > 2 ? 0.5 : highest - lowest > 0.8 ? 0.2 : 0.1;
  std::string tics;
  for (double value = std::ceil(lowest / tic) * tic; value <= highest; value += tic) {
    tics += fmt::format("{}{:.1f}", tics.empty() ? "" : ", ", value);
  }
  const std::string terminal =
      "set terminal pngcairo noenhanced size 1000,620 font 'sans,10'; set grid; set key outside right";
  std::string script = fmt::format(
      "{}; set output {}; set logscale xy; set xrange [{:.4g}:{:.4g}]; set yrange [{:.4f}:{:.4f}]; "
      "set ytics ({}); set xlabel 'training FLOPs'; set ylabel 'validation loss (nats per token)'; "
      "set format x '%.0e'; set title {}; plot {}\n",
      terminal, gnuplot_string((out / "loss_vs_flops.png").string()), cheapest / 1.2, dearest * 1.2,
      0.99 * lowest, 1.01 * highest, tics,
      gnuplot_string(fmt::format("suite {}: loss against training compute", suite.name)), flops_plot);
  script += fmt::format(
      "reset; {}; set output {}; set logscale x; set xlabel 'wall seconds in training steps'; "
      "set ylabel 'validation loss (nats per token)'; set title {}; plot {}\n",
      terminal, gnuplot_string((out / "loss_vs_seconds.png").string()),
      gnuplot_string(fmt::format("suite {}: size {} against wall time", suite.name, suite.sizes.back().name)),
      seconds_plot);
  if (!speedup_plot.empty()) {
    script += fmt::format(
        "reset; {}; set output {}; set xlabel 'model size'; set ylabel 'speedup over {}'; set yrange "
        "[0:*]; set xrange [-0.5:{}]; set title {}; plot {}, 1 with lines lc rgb '#888888' notitle\n",
        terminal, gnuplot_string((out / "speedup.png").string()), suite.baseline,
        static_cast<double>(suite.sizes.size()) - 0.5,
        gnuplot_string(
            fmt::format("suite {}: compute to reach {}'s final loss, per size", suite.name, suite.baseline)),
        speedup_plot);
  }
  const fs::path script_file = data / "plots.gnuplot";
  std::ofstream(script_file) << script;
  if (run_program({"gnuplot", script_file.string()}, false, (data / "gnuplot.log").string()).status != 0) {
    log().warn(
        "could not draw the curves (is gnuplot installed? tools/setup.sh installs gnuplot-nox); see {}",
        (data / "gnuplot.log").string());
    return false;
  }
  return true;
}

}  // namespace

std::string write_curves_report(const CurvesSuite& suite, const SuiteOutcome& outcome,
                                const std::string& out_directory, const ReportContext& context) {
  const fs::path out(out_directory);
  const bool drawn = draw(suite, outcome, out);
  std::string md = fmt::format("# Compute against validation loss: suite `{}`\n\n", suite.name);
  md += fmt::format(
      "- Command: `{}`\n- Suite file: `{}`; dataset `{}`; recipe `{}`\n- Machine: {}\n- Build: {}\n\n",
      context.command, suite.source, suite.dataset, suite.recipe, context.machine, context.build);
  md +=
      "Training FLOPs are `primer-info`'s count (6 per matmul weight per token, attention's T x T products "
      "included); seconds are wall time inside training steps (evaluation and checkpoints left out).\n\n";

  md +=
      "## Runs\n\n| variant | size | d_model x layers | parameters | steps | tokens | training FLOPs | "
      "training s | final validation loss |";
  const bool held_out = !suite.held_out_text.empty();
  if (held_out) md += " held-out loss | held-out bits/byte |";
  md += "\n|---|---|---|---|---|---|---|---|---|" + std::string(held_out ? "---|---|" : "") + "\n";
  for (const RunOutcome& run : outcome.runs) {
    const CurvePoint& last = run.curve.back();
    md += fmt::format("| {} | {} | {} x {} | {:.3g} M | {} | {:.3g} M | {:.3g} | {:.0f} | {:.4f} |",
                      run.run.variant, run.run.size.name, run.run.size.d_model, run.run.size.num_layers,
                      static_cast<double>(run.run.plan.parameters) / 1e6, run.run.config.steps,
                      static_cast<double>(run.run.config.steps * run.run.plan.tokens_per_step) / 1e6,
                      last.flops, last.seconds, last.loss);
    if (held_out) {
      md += fmt::format(" {} | {} |", run.held_out ? fmt::format("{:.4f}", run.held_out->loss) : "-",
                        run.held_out ? format_or_dash(run.held_out->bits_per_byte, "{:.4f}") : "-");
    }
    md += "\n";
  }

  const auto points = points_by_variant(outcome);
  md +=
      "\n## Envelopes and power laws\n\nThe lower envelope of each variant's validation loss over all its "
      "runs "
      "and evaluations, against training FLOPs, fitted by log L = log a - k log C (least squares in "
      "log-log).\n\n"
      "| variant | envelope points | k | a |\n|---|---|---|---|\n";
  std::map<std::string, PowerLaw> fits;
  for (const std::string& variant : suite.variants) {
    if (!points.contains(variant)) continue;
    const std::vector<CurvePoint> envelope = lower_envelope(points.at(variant));
    const std::optional<PowerLaw> fit = fit_power_law(envelope);
    if (fit) fits[variant] = *fit;
    md += fmt::format("| {} | {} | {} | {} |\n", variant, envelope.size(),
                      fit ? fmt::format("{:.4f}", fit->k) : "-",
                      fit ? fmt::format("{:.4g}", std::exp(fit->log_a)) : "-");
  }

  md += fmt::format(
      "\n## Speedup over {}\n\nPer size, the paper's speedup factor: the compute {} spent to reach its "
      "final validation loss, over the compute the variant needed to reach the same loss (interpolated "
      "between evaluations), in training FLOPs and in wall seconds. '-': the variant never reached it.\n\n",
      suite.baseline, suite.baseline);
  md += "| size |";
  std::string rule = "|---|";
  for (const std::string& variant : suite.variants) {
    if (variant == suite.baseline) continue;
    md += fmt::format(" {} (FLOPs) | {} (seconds) |", variant, variant);
    rule += "---|---|";
  }
  md += "\n" + rule + "\n";
  for (const SuiteSize& size : suite.sizes) {
    const RunOutcome* base = find_run(outcome, suite.baseline, size.name);
    md += fmt::format("| {} |", size.name);
    for (const std::string& variant : suite.variants) {
      if (variant == suite.baseline) continue;
      const RunOutcome* run = find_run(outcome, variant, size.name);
      const auto factor = [&](Cost cost) {
        return base && run ? format_or_dash(speedup(base->curve, run->curve, cost), "{:.2f}x")
                           : std::string("-");
      };
      md += fmt::format(" {} | {} |", factor(Cost::flops), factor(Cost::seconds));
    }
    md += "\n";
  }
  if (fits.contains(suite.baseline) && points.contains(suite.baseline)) {
    const double target = lower_envelope(points.at(suite.baseline)).back().loss;
    md += fmt::format(
        "\nBetween the fitted frontiers, at {}'s best loss {:.4f}: the FLOPs {}'s fit needs, over each "
        "variant's (the horizontal offset on the log-log plot).\n\n| variant | offset |\n|---|---|\n",
        suite.baseline, target, suite.baseline);
    for (const auto& [variant, fit] : fits) {
      if (variant == suite.baseline || fit.k <= 0) continue;
      md += fmt::format("| {} | {:.2f}x |\n", variant,
                        fits.at(suite.baseline).cost_for(target) / fit.cost_for(target));
    }
  }
  if (drawn) {
    md +=
        "\n## Curves\n\n![loss against training FLOPs](loss_vs_flops.png)\n\n"
        "![loss against wall seconds](loss_vs_seconds.png)\n\n";
    if (suite.variants.size() > 1) md += "![speedup per size](speedup.png)\n";
  }
  const fs::path report = out / "report.md";
  std::ofstream(report) << md;
  return report.string();
}

}  // namespace primer::bench
