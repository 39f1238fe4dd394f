// ops::linear_cross_entropy against the pair it fuses (linear, then cross_entropy), and the memory it
// saves by never holding the whole batch's logits. The op cases (gradcheck, PyTorch, CUDA) check its
// numbers on small shapes; these check it at a shape of many chunks, in f32 and under bf16 products.
#include <gtest/gtest.h>

#include "comparison.h"
#include "counting_allocator.h"
#include "primer/ops/cross_entropy.h"
#include "primer/ops/linear.h"
#include "primer/ops/matmul_precision.h"
#include "primer/tensor/random.h"

namespace primer {
namespace {

struct Problem {
  Variable x;
  Variable weight;
  Tensor targets;
};

// Rows of d_model 16 over a vocabulary of 2048, one target in ten ignored.
Problem make_problem(std::int64_t rows) {
  Generator generator(7);
  Tensor targets = randint({rows}, 0, 2048, generator);
  for (std::int64_t n = 0; n < rows; n += 10) targets.data<std::int32_t>()[n] = -1;
  return {Variable(randn({rows, 16}, DType::f32, generator), true),
          Variable(randn({2048, 16}, DType::f32, generator, 0.5), true), targets};
}

struct Result {
  double loss;
  double z_part;
  Tensor grad_x;
  Tensor grad_weight;
};

Result run(Problem& p, bool fused, double seed = 0.75) {
  double z_part = 0.0;
  const Variable loss = fused ? ops::linear_cross_entropy(p.x, p.weight, p.targets, 1e-3, &z_part, 32)
                              : ops::cross_entropy(ops::linear(p.x, p.weight), p.targets, 1e-3, &z_part);
  loss.backward(Tensor::full({1}, seed, DType::f32));
  Result result{loss.value().item(), z_part, p.x.grad().clone(), p.weight.grad().clone()};
  p.x.zero_grad();
  p.weight.zero_grad();
  return result;
}

void expect_same(const Result& fused, const Result& unfused, double tolerance) {
  EXPECT_NEAR(fused.loss, unfused.loss, tolerance * std::abs(unfused.loss));
  EXPECT_NEAR(fused.z_part, unfused.z_part, tolerance * std::abs(unfused.z_part));
  EXPECT_LT(testing::relative_error(fused.grad_x, unfused.grad_x), tolerance);
  EXPECT_LT(testing::relative_error(fused.grad_weight, unfused.grad_weight), tolerance);
}

TEST(LinearCrossEntropy, MatchesLinearThenCrossEntropyOverManyChunks) {
  Problem p = make_problem(500);  // 16 chunks of 32 rows, the last one of 20
  expect_same(run(p, true), run(p, false), 1e-5);
}

// With the seed of training (1): the fused op scales by any other seed after its bf16 products, the pair
// before them, so the two would differ by bf16 rounding (4e-3 with 0.75).
TEST(LinearCrossEntropy, MatchesTheUnfusedPairUnderBf16Products) {
  Problem p = make_problem(500);
  const ops::MatmulPrecisionScope bf16(DType::bf16);
  expect_same(run(p, true, 1.0), run(p, false, 1.0), 1e-5);
}

TEST(LinearCrossEntropy, ComputesNoGradientsWhenNoneAreRecorded) {
  const Problem p = make_problem(64);
  const Variable loss =
      ops::linear_cross_entropy(p.x.detach(), p.weight.detach(), p.targets, 0.0, nullptr, 32);
  EXPECT_FALSE(loss.requires_grad());
  EXPECT_NEAR(loss.value().item(), ops::cross_entropy(ops::linear(p.x, p.weight), p.targets).value().item(),
              1e-5);
}

TEST(LinearCrossEntropy, NamesATargetOutsideTheVocabulary) {
  Problem p = make_problem(64);
  p.targets.data<std::int32_t>()[33] = 2048;
  EXPECT_THROW(
      {
        try {
          ops::linear_cross_entropy(p.x, p.weight, p.targets);
        } catch (const Error& e) {
          EXPECT_NE(std::string(e.what()).find("target 2048 at row 33"), std::string::npos) << e.what();
          throw;
        }
      },
      Error);
}

// The point of the op: a forward and backward pass never holds the [N, V] logits. 512 rows over 2048
// classes are 4 MiB of logits; the unfused pair holds them and their gradient at once.
std::size_t peak_bytes_of_a_step(bool fused) {
  testing::CountingAllocator counting(DeviceKind::cpu);
  {
    Problem p = make_problem(512);
    run(p, fused);
  }
  return counting.peak_bytes;
}

TEST(LinearCrossEntropy, NeverHoldsTheWholeBatchsLogits) {
  const std::size_t logits_bytes = 512 * 2048 * sizeof(float);
  const std::size_t fused = peak_bytes_of_a_step(true);
  const std::size_t unfused = peak_bytes_of_a_step(false);
  EXPECT_LT(fused, logits_bytes / 2) << "fused peak " << fused << " bytes";
  EXPECT_GE(unfused, 2 * logits_bytes) << "unfused peak " << unfused << " bytes";
}

}  // namespace
}  // namespace primer
