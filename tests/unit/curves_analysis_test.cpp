// The compute-versus-loss analysis on curves whose answers are known.
#include <gtest/gtest.h>

#include <cmath>

#include "primer/bench/curves_analysis.h"

namespace primer::bench {
namespace {

// L = a C^-k sampled at costs 1e9 .. 1e12, seconds = flops / 1e9.
std::vector<CurvePoint> power_law_run(double a, double k, double first, double last) {
  std::vector<CurvePoint> run;
  for (double cost = first; cost <= last * 1.0001; cost *= 2)
    run.push_back({cost, cost / 1e9, a * std::pow(cost, -k)});
  return run;
}

TEST(CurvesAnalysisTest, EnvelopeKeepsOnlyPointsNothingCheaperBeats) {
  const std::vector<CurvePoint> envelope =
      lower_envelope({{4, 0, 3.0}, {1, 0, 5.0}, {2, 0, 5.5}, {3, 0, 4.0}, {5, 0, 3.5}, {6, 0, 2.5}});
  ASSERT_EQ(envelope.size(), 4u);
  EXPECT_EQ(envelope[0].flops, 1);
  EXPECT_EQ(envelope[1].flops, 3);
  EXPECT_EQ(envelope[2].flops, 4);
  EXPECT_EQ(envelope[3].flops, 6);
}

TEST(CurvesAnalysisTest, PowerLawFitRecoversItsParameters) {
  const std::optional<PowerLaw> fit = fit_power_law(power_law_run(20.0, 0.05, 1e9, 1e12));
  ASSERT_TRUE(fit.has_value());
  EXPECT_NEAR(fit->k, 0.05, 1e-9);
  EXPECT_NEAR(std::exp(fit->log_a), 20.0, 1e-6);
  EXPECT_NEAR(fit->cost_for(fit->loss_at(3e10)), 3e10, 1e-3 * 3e10);
  EXPECT_FALSE(fit_power_law({{1e9, 1, 5.0}}).has_value());
}

TEST(CurvesAnalysisTest, CostToReachInterpolatesInLogLog) {
  const std::vector<CurvePoint> run = power_law_run(20.0, 0.05, 1e9, 1e12);
  const double target = 20.0 * std::pow(3e10, -0.05);  // between two evaluations
  EXPECT_NEAR(*cost_to_reach(run, target, Cost::flops), 3e10, 1e-6 * 3e10);
  EXPECT_NEAR(*cost_to_reach(run, target, Cost::seconds), 30.0, 1e-6 * 30.0);
  EXPECT_FALSE(cost_to_reach(run, 1.0, Cost::flops).has_value());
}

TEST(CurvesAnalysisTest, SpeedupOfAVariantThatNeedsHalfTheCompute) {
  // The variant's loss at C is the baseline's at 2C.
  const std::vector<CurvePoint> baseline = power_law_run(20.0, 0.05, 1e9, 1.024e12);
  std::vector<CurvePoint> variant = baseline;
  for (CurvePoint& point : variant) point.loss = 20.0 * std::pow(2 * point.flops, -0.05);
  EXPECT_NEAR(*speedup(baseline, variant, Cost::flops), 2.0, 1e-6);
  // Twice as slow per step: no gain in seconds.
  for (CurvePoint& point : variant) point.seconds *= 2;
  EXPECT_NEAR(*speedup(baseline, variant, Cost::seconds), 1.0, 1e-6);
  EXPECT_FALSE(speedup(variant, baseline, Cost::flops).has_value());
}

}  // namespace
}  // namespace primer::bench
