// Every op case (tests/support/op_cases.h) against float64 central differences.
#include <gtest/gtest.h>

#include "gradcheck.h"
#include "op_cases.h"

namespace primer::testing {
namespace {

class Gradcheck : public ::testing::TestWithParam<std::string> {};

TEST_P(Gradcheck, MatchesCentralDifferences) {
  const OpCase& c = op_case(GetParam());
  const std::map<std::string, Tensor> indices = op_case_indices(c, Device::cpu());
  GradcheckOptions options;
  for (std::size_t i = 0; i < c.inputs.size(); ++i) {
    if (c.inputs[i].away_from_zero) options.inputs_with_kink_at_zero.push_back(i);
  }
  expect_gradients_match(
      c.name, [&](const std::vector<Variable>& inputs) { return c.run(inputs, indices); },
      op_case_inputs(c, DType::f64), options);
}

INSTANTIATE_TEST_SUITE_P(OpCases, Gradcheck, ::testing::ValuesIn(op_case_names()),
                         [](const auto& info) { return op_case_test_name(info.param); });

}  // namespace
}  // namespace primer::testing
