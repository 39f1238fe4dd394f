// The autograd engine: accumulation, shared inputs, no-grad scopes, early freeing of saved tensors.
#include <gtest/gtest.h>

#include "primer/autograd/grad_mode.h"
#include "primer/autograd/variable.h"
#include "primer/ops/activation.h"
#include "primer/ops/elementwise.h"
#include "primer/ops/linear.h"

namespace primer {
namespace {

Variable leaf(std::vector<double> values) {
  const Shape shape{static_cast<std::int64_t>(values.size())};
  return Variable(Tensor::from_vector(values, shape), true);
}

TEST(Autograd, ChainRuleThroughMulAndAdd) {
  const Variable x = leaf({1.0, 2.0, 3.0});
  const Variable y = leaf({4.0, 5.0, 6.0});
  ops::sum(ops::add(ops::mul(x, y), x)).backward();  // d/dx = y + 1, d/dy = x
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{5.0, 6.0, 7.0}));
  EXPECT_EQ(y.grad().to_vector<double>(), (std::vector<double>{1.0, 2.0, 3.0}));
}

TEST(Autograd, AValueUsedTwiceSumsItsGradients) {
  const Variable x = leaf({3.0});
  const Variable squared = ops::mul(x, x);
  ops::sum(ops::add(squared, squared)).backward();  // d/dx 2x^2 = 4x
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{12.0}));
}

TEST(Autograd, LeafGradientsAccumulateAcrossPassesUntilZeroed) {
  const Variable x = leaf({1.0, 2.0});
  ops::sum(ops::scale(x, 3.0)).backward();
  ops::sum(ops::scale(x, 3.0)).backward();
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{6.0, 6.0}));
  Variable copy = x;
  copy.zero_grad();
  EXPECT_FALSE(x.grad().defined());
}

TEST(Autograd, SharedGradientTensorsAreNotAliasedIntoLeaves) {
  const Variable a = leaf({1.0});
  const Variable b = leaf({1.0});
  ops::sum(ops::add(a, b)).backward();  // add passes one gradient tensor to both inputs
  ops::sum(ops::scale(a, 5.0)).backward();
  EXPECT_EQ(a.grad().to_vector<double>(), (std::vector<double>{6.0}));
  EXPECT_EQ(b.grad().to_vector<double>(), (std::vector<double>{1.0}));
}

TEST(Autograd, APendingGradientSharedWithAnotherInputIsNotSummedInPlace) {
  const Variable x = leaf({1.0});
  const Variable y1 = ops::scale(x, 2.0);
  const Variable y2 = ops::scale(x, 3.0);
  // The outer add hands one tensor to the inner add and to y1; the inner add hands its (the same) tensor
  // to y1 and y2. y1's two gradients are summed; y2's must stay 1.
  ops::sum(ops::add(ops::add(y1, y2), y1)).backward();  // d/dx (2x + 3x + 2x) = 7
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{7.0}));
}

TEST(Autograd, NoGradScopeRecordsNothing) {
  const Variable x = leaf({1.0});
  Variable y;
  {
    const NoGradGuard no_grad;
    EXPECT_FALSE(grad_enabled());
    y = ops::scale(x, 2.0);
  }
  EXPECT_TRUE(grad_enabled());
  EXPECT_FALSE(y.requires_grad());
  EXPECT_THROW(y.backward(), Error);
}

TEST(Autograd, InputsWithoutGradientGetNone) {
  const Variable x = leaf({1.0, 2.0});
  const Variable constant(Tensor::from_vector(std::vector<double>{3.0, 4.0}, {2}));
  ops::sum(ops::mul(x, constant)).backward();
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{3.0, 4.0}));
  EXPECT_FALSE(constant.grad().defined());
}

TEST(Autograd, SavedTensorsAreFreedByBackwardAndASecondPassFails) {
  const Variable x = leaf({1.0, -2.0, 3.0});
  const Variable hidden = ops::relu(x);
  const Variable loss = ops::sum(ops::mul(hidden, hidden));
  const std::weak_ptr<Storage> hidden_storage = hidden.value().storage();
  loss.backward();
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{2.0, 0.0, 6.0}));
  // Only `hidden` (still held here) keeps its value; the copies mul saved for backward are gone.
  EXPECT_EQ(hidden_storage.use_count(), 1);
  EXPECT_THROW(loss.backward(), Error);
}

TEST(Autograd, MatmulWithSharedWeightAccumulatesOverTheBatch) {
  const Variable a(Tensor::full({2, 3, 4}, 1.0, DType::f64), true);
  const Variable w(Tensor::full({4, 5}, 2.0, DType::f64), true);
  ops::sum(ops::matmul(a, w)).backward();
  // d/dw[k, n] = sum over the 6 rows of a = 6; d/da[b, m, k] = sum over n of w = 10.
  for (const double g : w.grad().to_vector<double>()) EXPECT_EQ(g, 6.0);
  for (const double g : a.grad().to_vector<double>()) EXPECT_EQ(g, 10.0);
}

}  // namespace
}  // namespace primer
