// matmul_into with ProductWrite::accumulate: out += a b (+ bias), for every dtype the CPU kernel takes,
// against the overwritten product added by hand in f64.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "comparison.h"
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

}  // namespace
}  // namespace primer
