#pragma once
// Finite-difference gradient checking in float64, as ggml's test-backend-ops and PyTorch's gradcheck do:
// the scalar L = sum(f(inputs) * R) for a fixed random R is differentiated analytically (autograd) and
// numerically (central differences), element by element.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "primer/autograd/grad_mode.h"
#include "primer/autograd/variable.h"
#include "primer/ops/elementwise.h"
#include "primer/tensor/random.h"

namespace primer::testing {

struct GradcheckOptions {
  double step = 1e-6;
  double absolute_tolerance = 1e-7;
  double relative_tolerance = 1e-6;
  // Elements of inputs listed here are skipped where |x| < kink_distance: f is not differentiable at 0.
  std::vector<std::size_t> inputs_with_kink_at_zero;
  double kink_distance = 1e-4;
};

using Function = std::function<Variable(const std::vector<Variable>&)>;

inline double weighted_sum(const Variable& output, const Tensor& weights) {
  const std::vector<double> out = output.value().to_vector<double>();
  const std::vector<double> w = weights.to_vector<double>();
  double total = 0.0;
  for (std::size_t i = 0; i < out.size(); ++i) total += out[i] * w[i];
  return total;
}

inline void expect_gradients_match(const std::string& name, const Function& f,
                                   const std::vector<Tensor>& inputs, const GradcheckOptions& options = {}) {
  std::vector<Variable> leaves;
  for (const Tensor& input : inputs) {
    ASSERT_EQ(input.dtype(), DType::f64) << name << ": gradcheck inputs must be f64";
    leaves.emplace_back(input.clone(), true);
  }
  const Variable output = f(leaves);
  Generator generator(99);
  const Tensor weights = randn(output.shape(), DType::f64, generator);
  ops::sum(ops::mul(output, Variable(weights))).backward();

  for (std::size_t i = 0; i < leaves.size(); ++i) {
    const Tensor analytic = leaves[i].grad();
    ASSERT_TRUE(analytic.defined()) << name << ": input " << i << " received no gradient";
    const std::vector<double> analytic_values = analytic.to_vector<double>();
    double* x = leaves[i].value().data<double>();
    std::int64_t checked = 0;
    for (std::int64_t j = 0; j < leaves[i].value().numel(); ++j) {
      const bool has_kink =
          std::find(options.inputs_with_kink_at_zero.begin(), options.inputs_with_kink_at_zero.end(), i) !=
          options.inputs_with_kink_at_zero.end();
      if (has_kink && std::abs(x[j]) < options.kink_distance) continue;
      const double saved = x[j];
      double plus = 0.0, minus = 0.0;
      {
        const NoGradGuard no_grad;
        x[j] = saved + options.step;
        plus = weighted_sum(f(leaves), weights);
        x[j] = saved - options.step;
        minus = weighted_sum(f(leaves), weights);
      }
      x[j] = saved;
      const double numeric = (plus - minus) / (2.0 * options.step);
      const double tolerance = options.absolute_tolerance + options.relative_tolerance * std::abs(numeric);
      EXPECT_NEAR(analytic_values[static_cast<std::size_t>(j)], numeric, tolerance)
          << name << ": d/d input " << i << " element " << j;
      ++checked;
    }
    EXPECT_GT(checked, 0) << name << ": input " << i << " had no element away from a kink";
  }
}

}  // namespace primer::testing
