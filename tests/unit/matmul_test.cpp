// matmul_into with ProductWrite::accumulate: out += a b (+ bias), for every dtype the CPU kernel takes,
// against the overwritten product added by hand in f64; and with an activation as the product's
// epilogue (oneDNN post-ops in f32 and bf16, Eigen then a pass in f64), against the activation op applied
// to the plain product; and a product over long rows (which the CPU runs in chunks of k, each added by
// the GEMM), against the f64 product.
#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <vector>

#include "comparison.h"
#include "primer/ops/activation.h"
#include "primer/ops/linear.h"
#include "primer/tensor/random.h"

namespace primer {
namespace {

struct AccumulateCase {
  DType operands;
  DType out;
  double tolerance;
};

class MatmulAccumulate : public ::testing::TestWithParam<AccumulateCase> {};

TEST_P(MatmulAccumulate, AddsTheProductToWhatOutHolds) {
  const auto [operands, out_dtype, tolerance] = GetParam();
  Generator generator(31);
  const Tensor a = randn({2, 37, 29}, operands, generator);
  // A transposed b, as the LM head's weight gradient reads its operands.
  const Tensor b = randn({41, 29}, operands, generator).transpose(0, 1);
  const Tensor bias = randn({41}, operands == DType::f64 ? DType::f64 : out_dtype, generator);
  const Tensor before = randn({2, 37, 41}, out_dtype, generator);

  Tensor product = Tensor::empty({2, 37, 41}, out_dtype);
  ops::matmul_into(a, b, bias, product);
  const Tensor out = before.clone();
  ops::matmul_into(a, b, bias, out, ops::ProductWrite::accumulate);

  std::vector<double> sum = before.to_vector<double>();
  const std::vector<double> added = product.to_vector<double>();
  for (std::size_t i = 0; i < sum.size(); ++i) sum[i] += added[i];
  EXPECT_LT(testing::relative_error(out, Tensor::from_vector(sum, out.shape())), tolerance);
  EXPECT_GT(testing::relative_error(out, product), 0.1) << "out's old values were not added";
}

INSTANTIATE_TEST_SUITE_P(EveryDtype, MatmulAccumulate,
                         ::testing::Values(AccumulateCase{DType::f64, DType::f64, 1e-12},
                                           AccumulateCase{DType::f32, DType::f32, 1e-6},
                                           AccumulateCase{DType::bf16, DType::f32, 1e-6},
                                           AccumulateCase{DType::bf16, DType::bf16, 1e-2}),
                         [](const auto& info) {
                           return std::string(dtype_name(info.param.operands)) + "_into_" +
                                  std::string(dtype_name(info.param.out));
                         });

// k = 2200: above the CPU's longest row (2048), in two chunks, the first with the bias.
TEST(MatmulLongRows, EqualsTheProductInF64WrittenOrAdded) {
  for (const DType operands : {DType::f32, DType::bf16}) {
    SCOPED_TRACE(dtype_name(operands));
    Generator generator(41);
    const Tensor a = randn({37, 2200}, operands, generator);
    const Tensor b = randn({43, 2200}, operands, generator).transpose(0, 1);
    const Tensor bias = randn({43}, DType::f32, generator);
    const Tensor before = randn({37, 43}, DType::f32, generator);
    Tensor expected = Tensor::empty({37, 43}, DType::f64);
    ops::matmul_into(a.to(DType::f64), b.to(DType::f64), bias.to(DType::f64), expected);

    const Tensor written = Tensor::empty({37, 43}, DType::f32);
    ops::matmul_into(a, b, bias, written);
    EXPECT_LT(testing::relative_error(written, expected), 1e-5);
    const Tensor added = before.clone();
    ops::matmul_into(a, b, bias, added, ops::ProductWrite::accumulate);
    std::vector<double> sum = before.to_vector<double>();
    const std::vector<double> product = expected.to_vector<double>();
    for (std::size_t i = 0; i < sum.size(); ++i) sum[i] += product[i];
    EXPECT_LT(testing::relative_error(added, Tensor::from_vector(sum, added.shape())), 1e-5);
  }
}

struct EpilogueCase {
  DType operands;
  Activation activation;
  const char* name;
  double tolerance;
};

// What ctest's names show of a case: its fields' bytes would include the name's address, which changes
// from run to run.
void PrintTo(const EpilogueCase& c, std::ostream* out) {
  *out << c.name << " on " << dtype_name(c.operands);
}

class MatmulEpilogue : public ::testing::TestWithParam<EpilogueCase> {};

TEST_P(MatmulEpilogue, AppliesTheActivationAsTheActivationOpDoes) {
  const auto [operands, activation, name, tolerance] = GetParam();
  Generator generator(37);
  const Tensor a = randn({2, 37, 29}, operands, generator);
  const Tensor b = randn({41, 29}, operands, generator).transpose(0, 1);
  const DType out_dtype = operands == DType::f64 ? DType::f64 : DType::f32;
  const Tensor bias = randn({41}, out_dtype, generator);

  const Tensor product = Tensor::empty({2, 37, 41}, out_dtype);
  ops::matmul_into(a, b, bias, product);
  const Tensor fused = Tensor::empty({2, 37, 41}, out_dtype);
  ops::matmul_into(a, b, bias, fused, ops::ProductWrite::overwrite, activation);

  const Tensor expected = ops::activation(activation, Variable(product)).value();
  EXPECT_LT(testing::relative_error(fused, expected), tolerance) << name;
  EXPECT_GT(testing::relative_error(fused, product), 0.1) << name << ": the activation was not applied";
}

std::vector<EpilogueCase> epilogue_cases() {
  std::vector<EpilogueCase> cases;
  for (const auto& [activation, name] :
       {std::pair{Activation::relu, "relu"}, std::pair{Activation::squared_relu, "squared_relu"},
        std::pair{Activation::gelu_tanh, "gelu_tanh"}, std::pair{Activation::silu, "silu"}}) {
    cases.push_back({DType::f64, activation, name, 1e-12});
    cases.push_back({DType::f32, activation, name, 1e-5});
    cases.push_back({DType::bf16, activation, name, 1e-5});
  }
  return cases;
}

INSTANTIATE_TEST_SUITE_P(EveryActivationAndDtype, MatmulEpilogue, ::testing::ValuesIn(epilogue_cases()),
                         [](const auto& info) {
                           return std::string(info.param.name) + "_" +
                                  std::string(dtype_name(info.param.operands));
                         });

}  // namespace
}  // namespace primer
