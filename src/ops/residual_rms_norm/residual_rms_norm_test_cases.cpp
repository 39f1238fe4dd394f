#include "op_cases.h"
#include "primer/ops/elementwise.h"
#include "primer/ops/residual_rms_norm.h"

namespace primer::testing {
namespace {

// Both results in one output (normalized + sum / 2), so every check covers both and their gradients.
Variable both_results(const std::vector<Variable>& v, const std::map<std::string, Tensor>&) {
  const ops::ResidualNorm result = ops::residual_rms_norm(v[0], v[1], v[2], 1e-6);
  return ops::add(result.normalized, ops::scale(result.sum, 0.5));
}

const OpCaseRegistration registered{[] {
  return std::vector<OpCase>{
      {"residual_rms_norm",
       "residual_rms_norm",
       {{"x", {3, 4, 13}, 2.0}, {"residual", {3, 4, 13}}, {"gamma", {13}}},
       {},
       {{"eps", 1e-6}},
       both_results},
      // Rows wider than a block of threads.
      {"residual_rms_norm over 300 columns",
       "residual_rms_norm",
       {{"x", {2, 300}, 2.0}, {"residual", {2, 300}}, {"gamma", {300}}},
       {},
       {{"eps", 1e-6}},
       both_results},
  };
}};

}  // namespace
}  // namespace primer::testing
