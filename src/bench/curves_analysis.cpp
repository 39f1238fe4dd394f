#include "primer/bench/curves_analysis.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace primer::bench {

double cost_of(const CurvePoint& point, Cost cost) {
  return cost == Cost::flops ? point.flops : point.seconds;
}

std::vector<CurvePoint> lower_envelope(std::vector<CurvePoint> points, Cost cost) {
  std::sort(points.begin(), points.end(), [cost](const CurvePoint& a, const CurvePoint& b) {
    return cost_of(a, cost) < cost_of(b, cost) || (cost_of(a, cost) == cost_of(b, cost) && a.loss < b.loss);
  });
  std::vector<CurvePoint> envelope;
  double best = std::numeric_limits<double>::infinity();
  for (const CurvePoint& point : points) {
    if (point.loss < best && cost_of(point, cost) > 0) {
      envelope.push_back(point);
      best = point.loss;
    }
  }
  return envelope;
}

double PowerLaw::loss_at(double cost) const {
  return std::exp(log_a - k * std::log(cost));
}

double PowerLaw::cost_for(double loss) const {
  return std::exp((log_a - std::log(loss)) / k);
}

std::optional<PowerLaw> fit_power_law(const std::vector<CurvePoint>& points, Cost cost) {
  if (points.size() < 2) return std::nullopt;
  double sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (const CurvePoint& point : points) {
    const double x = std::log(cost_of(point, cost));
    const double y = std::log(point.loss);
    sx += x;
    sy += y;
    sxx += x * x;
    sxy += x * y;
  }
  const auto n = static_cast<double>(points.size());
  const double spread = n * sxx - sx * sx;
  if (spread <= 0) return std::nullopt;
  const double slope = (n * sxy - sx * sy) / spread;
  return PowerLaw{(sy - slope * sx) / n, -slope, points.size()};
}

std::optional<double> cost_to_reach(const std::vector<CurvePoint>& run, double loss, Cost cost) {
  for (std::size_t i = 0; i < run.size(); ++i) {
    if (run[i].loss > loss) continue;
    if (i == 0) return cost_of(run[0], cost);
    const double x0 = std::log(cost_of(run[i - 1], cost)), x1 = std::log(cost_of(run[i], cost));
    const double y0 = std::log(run[i - 1].loss), y1 = std::log(run[i].loss);
    const double t = y0 == y1 ? 1.0 : (y0 - std::log(loss)) / (y0 - y1);
    return std::exp(x0 + t * (x1 - x0));
  }
  return std::nullopt;
}

std::optional<double> speedup(const std::vector<CurvePoint>& baseline, const std::vector<CurvePoint>& variant,
                              Cost cost) {
  if (baseline.empty()) return std::nullopt;
  const std::optional<double> reached = cost_to_reach(variant, baseline.back().loss, cost);
  if (!reached || *reached <= 0) return std::nullopt;
  return cost_of(baseline.back(), cost) / *reached;
}

}  // namespace primer::bench
