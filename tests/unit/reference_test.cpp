// Every op's forward output and input gradients against PyTorch (tests/reference/op_references.py,
// run by ctest before this test), in f64, f32 and, forward only, bf16.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include "comparison.h"

#include <cmath>
#include <fstream>
#include <map>

#include "primer/ops/activation.h"
#include "primer/ops/attention.h"
#include "primer/ops/causal_dconv.h"
#include "primer/ops/cross_entropy.h"
#include "primer/ops/elementwise.h"
#include "primer/ops/embedding.h"
#include "primer/ops/linear.h"
#include "primer/ops/normalization.h"
#include "primer/ops/rotary.h"

namespace primer {
namespace {

using testing::relative_error;

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
  if (dtype == DType::i32)
    return Tensor::from_vector(encoded.at("data").get<std::vector<std::int32_t>>(), shape);
  return Tensor::from_vector(encoded.at("data").get<std::vector<double>>(), shape).to(dtype);
}

Variable run_case(const json& c, std::map<std::string, Variable>& in,
                  const std::map<std::string, Tensor>& ints) {
  const std::string op = c.at("op");
  const json& params = c.at("params");
  if (op == "matmul") return ops::matmul(in["a"], in["b"]);
  if (op == "linear") return ops::linear(in["x"], in["weight"], in["bias"]);
  if (op == "embedding") return ops::embedding(in["table"], ints.at("ids"));
  if (op == "layer_norm") return ops::layer_norm(in["x"], in["gamma"], in["beta"], params.at("eps"));
  if (op == "rms_norm") return ops::rms_norm(in["x"], in["gamma"], params.at("eps"));
  if (op == "relu") return ops::relu(in["x"]);
  if (op == "squared_relu") return ops::squared_relu(in["x"]);
  if (op == "gelu_tanh") return ops::gelu(in["x"]);
  if (op == "silu") return ops::silu(in["x"]);
  if (op == "swiglu") return ops::swiglu(in["gate"], in["up"]);
  if (op == "causal_dconv") return ops::causal_dconv(in["x"], in["weight"]);
  if (op == "rotary") return ops::rotary(in["x"], params.at("offset"), params.at("base"));
  if (op == "attention")
    return ops::causal_attention(in["q"], in["k"], in["v"], Variable(), params.at("scale"));
  if (op == "attention_bias")
    return ops::causal_attention(in["q"], in["k"], in["v"], in["bias"], params.at("scale"));
  if (op == "cross_entropy") return ops::cross_entropy(in["logits"], ints.at("targets"), params.at("z_loss"));
  throw std::runtime_error("no C++ binding for reference op " + op);
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

TEST_P(ReferenceTest, MatchesPyTorch) {
  const Tolerance tolerance = GetParam();
  const json& cases = references().at("cases");
  ASSERT_GE(cases.size(), 15u);
  for (const json& c : cases) {
    SCOPED_TRACE(c.at("name").get<std::string>());
    std::map<std::string, Variable> inputs;
    for (const auto& [name, encoded] : c.at("inputs").items()) {
      inputs[name] = Variable(decode(encoded, tolerance.dtype), tolerance.check_gradients);
    }
    std::map<std::string, Tensor> ints;
    for (const auto& [name, encoded] : c.at("ints").items()) ints[name] = decode(encoded, DType::i32);

    const Variable output = run_case(c, inputs, ints);
    const Tensor expected = decode(c.at("output"), DType::f64);
    ASSERT_EQ(output.shape(), expected.shape());
    EXPECT_LT(relative_error(output.value(), expected), tolerance.value) << "forward";

    if (!tolerance.check_gradients) continue;
    const Variable weights(decode(c.at("weights"), output.dtype()));
    ops::sum(ops::mul(output, weights)).backward();
    for (const auto& [name, encoded] : c.at("grads").items()) {
      EXPECT_LT(relative_error(inputs[name].grad(), decode(encoded, DType::f64)), tolerance.value)
          << "gradient of " << name;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Dtypes, ReferenceTest,
                         ::testing::Values(Tolerance{DType::f64, 1e-10, true},
                                           Tolerance{DType::f32, 1e-5, true},
                                           Tolerance{DType::bf16, 1e-2, false}),
                         [](const auto& info) { return std::string(dtype_name(info.param.dtype)); });

}  // namespace
}  // namespace primer
