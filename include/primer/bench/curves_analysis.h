#pragma once
// The paper's analysis of compute-versus-loss curves: the lower envelope of each variant's validation
// loss over all its runs, a power law fitted to it, and speedups over a baseline, in training FLOPs and
// in wall seconds.
#include <optional>
#include <string>
#include <vector>

namespace primer::bench {

struct CurvePoint {
  double flops = 0;    // training FLOPs so far
  double seconds = 0;  // wall seconds in training steps so far
  double loss = 0;     // validation loss there
};

enum class Cost { flops, seconds };
double cost_of(const CurvePoint& point, Cost cost);

// The points no other point beats at lower or equal cost: sorted by cost, each lower than all before it.
std::vector<CurvePoint> lower_envelope(std::vector<CurvePoint> points, Cost cost = Cost::flops);

// log L = log a - k log C, least squares in log-log.
struct PowerLaw {
  double log_a = 0;
  double k = 0;
  std::size_t points = 0;
  double loss_at(double cost) const;
  double cost_for(double loss) const;  // the inverse
};
std::optional<PowerLaw> fit_power_law(const std::vector<CurvePoint>& points, Cost cost = Cost::flops);

// The cost at which a run (points in training order) first reaches `loss`, interpolated in log-log
// between the evaluations around the crossing; none when it never does.
std::optional<double> cost_to_reach(const std::vector<CurvePoint>& run, double loss, Cost cost);

// The paper's speedup factor at one size: the baseline's cost for its final loss over the cost at
// which the variant reaches that loss (none when it never does).
std::optional<double> speedup(const std::vector<CurvePoint>& baseline, const std::vector<CurvePoint>& variant,
                              Cost cost);

}  // namespace primer::bench
