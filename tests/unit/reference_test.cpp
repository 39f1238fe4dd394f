// Every op case (tests/support/op_cases.h) against PyTorch: ctest runs primer-op-cases, which writes the
// cases and their inputs, then tests/reference/op_references.py, which computes each with PyTorch; here
// the forward output and input gradients must match in f64 and f32, and the forward output in bf16.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <fstream>

#include "comparison.h"
#include "op_cases.h"
#include "primer/ops/elementwise.h"

namespace primer::testing {
namespace {

using nlohmann::json;

const json& references() {
  static const json loaded = [] {
    const std::string path = std::string(PRIMER_TEST_ARTIFACTS) + "/op_references.json";
    std::ifstream in(path);
    if (!in)
      throw std::runtime_error("cannot read " + path + ": run the tests through ctest, which makes it");
    return json::parse(in);
  }();
  return loaded;
}

Tensor decode(const json& encoded, DType dtype) {
  const Shape shape = encoded.at("shape").get<Shape>();
  return Tensor::from_vector(encoded.at("data").get<std::vector<double>>(), shape).to(dtype);
}

struct Tolerance {
  DType dtype;
  double value;
  bool check_gradients;
};

void PrintTo(const Tolerance& tolerance, std::ostream* out) {
  *out << dtype_name(tolerance.dtype) << " within " << tolerance.value;
}

class ReferenceTest : public ::testing::TestWithParam<Tolerance> {};

TEST_P(ReferenceTest, EveryOpCaseMatchesPyTorch) {
  const Tolerance tolerance = GetParam();
  const json& cases = references().at("cases");
  ASSERT_EQ(cases.size(), op_cases().size()) << "op_references.json is older than the case list";
  for (const json& reference : cases) {
    const OpCase& c = op_case(reference.at("name").get<std::string>());
    SCOPED_TRACE(c.name);
    std::vector<Variable> inputs;
    for (const Tensor& input : op_case_inputs(c, tolerance.dtype)) {
      inputs.emplace_back(input, tolerance.check_gradients);
    }
    const Variable output = c.run(inputs, op_case_indices(c, Device::cpu()));
    const Tensor expected = decode(reference.at("output"), DType::f64);
    ASSERT_EQ(output.shape(), expected.shape());
    EXPECT_LT(relative_error(output.value(), expected), tolerance.value) << "forward";

    if (!tolerance.check_gradients) continue;
    const Variable weights(decode(reference.at("weights"), output.dtype()));
    ops::sum(ops::mul(output, weights)).backward();
    for (std::size_t i = 0; i < c.inputs.size(); ++i) {
      const Tensor expected_grad = decode(reference.at("grads").at(c.inputs[i].name), DType::f64);
      EXPECT_LT(relative_error(inputs[i].grad(), expected_grad), tolerance.value)
          << "gradient of " << c.inputs[i].name;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Dtypes, ReferenceTest,
                         ::testing::Values(Tolerance{DType::f64, 1e-10, true},
                                           Tolerance{DType::f32, 1e-5, true},
                                           Tolerance{DType::bf16, 1e-2, false}),
                         [](const auto& info) { return std::string(dtype_name(info.param.dtype)); });

}  // namespace
}  // namespace primer::testing
