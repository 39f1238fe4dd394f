// Mixed precision: inside a bf16 MatmulPrecisionScope, linear() keeps f32 inputs, outputs and gradients
// while its products run in bf16 (only what goes from one product to the next, an activation at most between
// them, is kept in bf16); the results track the f32 ones to bf16 accuracy, and the scope restores the
// previous precision when it ends. Attention's products run in bf16 too where the CPU has bf16 dot products
// (AVX512-BF16), f32 elsewhere.
#include <gtest/gtest.h>

#include "backend/cpu/cpu_features.h"
#include "comparison.h"
#include "primer/ops/activation.h"
#include "primer/ops/activation_kind.h"
#include "primer/ops/attention.h"
#include "primer/ops/elementwise.h"
#include "primer/ops/linear.h"
#include "primer/ops/matmul_precision.h"
#include "primer/tensor/random.h"

namespace primer {
namespace {

struct LinearResult {
  Tensor y, grad_x, grad_w, grad_b;
};

LinearResult run_linear(const Tensor& x, const Tensor& w, const Tensor& b, const Tensor& seed) {
  const Variable xv(x.clone(), true), wv(w.clone(), true), bv(b.clone(), true);
  const Variable y = ops::linear(xv, wv, bv);
  ops::sum(ops::mul(y, Variable(seed))).backward();
  return {y.value(), xv.grad(), wv.grad(), bv.grad()};
}

TEST(MatmulPrecision, Bf16LinearTracksF32WithF32InputsAndOutputs) {
  Generator generator(8);
  const Tensor x = randn({3, 37, 29}, DType::f32, generator), w = randn({41, 29}, DType::f32, generator, 0.2),
               b = randn({41}, DType::f32, generator), seed = randn({3, 37, 41}, DType::f32, generator);
  const LinearResult full = run_linear(x, w, b, seed);
  LinearResult mixed;
  {
    const ops::MatmulPrecisionScope scope(DType::bf16);
    EXPECT_EQ(ops::matmul_precision(), DType::bf16);
    mixed = run_linear(x, w, b, seed);
  }
  EXPECT_EQ(ops::matmul_precision(), DType::f32);
  for (const auto& [name, a, e] :
       {std::tuple{"y", mixed.y, full.y}, std::tuple{"grad x", mixed.grad_x, full.grad_x},
        std::tuple{"grad w", mixed.grad_w, full.grad_w}, std::tuple{"grad b", mixed.grad_b, full.grad_b}}) {
    EXPECT_EQ(a.dtype(), DType::f32) << name;
    const double error = testing::relative_error(a, e);
    EXPECT_LT(error, 1e-2) << name;
    if (std::string(name) != "grad b") {
      EXPECT_GT(error, 1e-6) << name << ": the bf16 path did not run";
    }
  }
}

// Feed-forward blocks between biased projections, squared ReLU and SwiGLU: under bf16 products the
// hidden activation is bf16 (the down projection reads it as is), its gradient too, and so are SwiGLU's gate
// and up; what comes out and every parameter's gradient stay f32 and track the f32 run.
TEST(MatmulPrecision, Bf16HiddenActivationBetweenProductsTracksF32) {
  Generator generator(9);
  const Tensor x = randn({2, 19, 29}, DType::f32, generator),
               w_in = randn({53, 29}, DType::f32, generator, 0.2), b_in = randn({53}, DType::f32, generator),
               w_gate = randn({53, 29}, DType::f32, generator, 0.2),
               b_gate = randn({53}, DType::f32, generator),
               w_out = randn({23, 53}, DType::f32, generator, 0.2),
               b_out = randn({23}, DType::f32, generator), seed = randn({2, 19, 23}, DType::f32, generator);
  const auto run = [&](bool swiglu, DType precision) {
    const ops::MatmulPrecisionScope scope(precision);
    std::vector<Variable> leaves{Variable(x.clone(), true), Variable(w_in.clone(), true),
                                 Variable(b_in.clone(), true), Variable(w_out.clone(), true),
                                 Variable(b_out.clone(), true)};
    Variable hidden;
    if (swiglu) {
      leaves.emplace_back(w_gate.clone(), true);
      leaves.emplace_back(b_gate.clone(), true);
      const Variable gate = ops::linear(leaves[0], leaves[5], leaves[6], ops::LinearOutput::next_product);
      const Variable up = ops::linear(leaves[0], leaves[1], leaves[2], ops::LinearOutput::next_product);
      EXPECT_EQ(gate.dtype(), precision);
      EXPECT_EQ(up.dtype(), precision);
      hidden = ops::swiglu(gate, up);
    } else {
      hidden = ops::linear_activation(leaves[0], leaves[1], leaves[2], Activation::squared_relu);
    }
    EXPECT_EQ(hidden.dtype(), precision);
    const Variable y = ops::linear(hidden, leaves[3], leaves[4]);
    ops::sum(ops::mul(y, Variable(seed))).backward();
    std::vector<Tensor> results{y.value()};
    for (const Variable& leaf : leaves) results.push_back(leaf.grad());
    return results;
  };
  for (const bool swiglu : {false, true}) {
    SCOPED_TRACE(swiglu ? "swiglu" : "squared relu");
    const std::vector<Tensor> full = run(swiglu, DType::f32), mixed = run(swiglu, DType::bf16);
    const char* names[] = {"y",          "grad x",     "grad w_in",   "grad b_in",
                           "grad w_out", "grad b_out", "grad w_gate", "grad b_gate"};
    for (std::size_t i = 0; i < full.size(); ++i) {
      EXPECT_EQ(mixed[i].dtype(), DType::f32) << names[i];
      const double error = testing::relative_error(mixed[i], full[i]);
      EXPECT_LT(error, 1e-2) << names[i];
      // The output bias's gradient sums the seed's rows: no product in it.
      if (std::string(names[i]) != "grad b_out") {
        EXPECT_GT(error, 1e-6) << names[i] << ": the bf16 path did not run";
      }
    }
  }
}

// Causal attention under bf16 products against f32: a head size that is not a whole number of pairs, a
// block tail of odd length (301 = 192 + 109 rows), fewer queries than keys (an odd number of them), with
// and without a relative bias. Outputs and gradients stay f32.
TEST(MatmulPrecision, Bf16AttentionTracksF32) {
  struct Case {
    const char* name;
    std::int64_t batch, q_time, k_time, heads, head_dim;
    bool bias;
  };
  for (const Case& c : {Case{"head_dim 64, 256 positions", 2, 256, 256, 2, 64, false},
                        Case{"head_dim 33, 301 positions, bias", 2, 301, 301, 3, 33, true},
                        Case{"head_dim 16, 50 queries over 131 keys, bias", 1, 50, 131, 2, 16, true}}) {
    SCOPED_TRACE(c.name);
    Generator generator(10);
    const Tensor q = randn({c.batch, c.q_time, c.heads, c.head_dim}, DType::f32, generator, 0.5),
                 k = randn({c.batch, c.k_time, c.heads, c.head_dim}, DType::f32, generator),
                 v = randn({c.batch, c.k_time, c.heads, c.head_dim}, DType::f32, generator),
                 table = randn({7, c.heads}, DType::f32, generator, 0.3),
                 seed = randn({c.batch, c.q_time, c.heads, c.head_dim}, DType::f32, generator);
    std::vector<std::int32_t> buckets;
    for (std::int64_t distance = 0; distance < c.k_time; ++distance)
      buckets.push_back(static_cast<std::int32_t>(std::min<std::int64_t>(distance, 6)));
    const Tensor distance_buckets = Tensor::from_vector(buckets, {c.k_time});
    const auto run = [&](DType precision) {
      const ops::MatmulPrecisionScope scope(precision);
      std::vector<Variable> leaves{Variable(q.clone(), true), Variable(k.clone(), true),
                                   Variable(v.clone(), true), Variable(table.clone(), true)};
      const ops::RelativeBias bias =
          c.bias ? ops::RelativeBias{leaves[3], distance_buckets} : ops::RelativeBias{};
      const Variable out = ops::causal_attention(leaves[0], leaves[1], leaves[2], bias,
                                                 1.0 / std::sqrt(static_cast<double>(c.head_dim)));
      ops::sum(ops::mul(out, Variable(seed))).backward();
      std::vector<Tensor> results{out.value(), leaves[0].grad(), leaves[1].grad(), leaves[2].grad()};
      if (c.bias) results.push_back(leaves[3].grad());
      return results;
    };
    const std::vector<Tensor> full = run(DType::f32), mixed = run(DType::bf16);
    const char* names[] = {"output", "grad q", "grad k", "grad v", "grad table"};
    for (std::size_t i = 0; i < full.size(); ++i) {
      EXPECT_EQ(mixed[i].dtype(), DType::f32) << names[i];
      const double error = testing::relative_error(mixed[i], full[i]);
      EXPECT_LT(error, 1e-2) << names[i];
      if (cpu::avx512_bf16_available()) {
        EXPECT_GT(error, 1e-6) << names[i] << ": the bf16 products did not run";
      }
    }
  }
}

TEST(MatmulPrecision, RejectsPrecisionsOtherThanF32AndBf16) {
  EXPECT_THROW(ops::MatmulPrecisionScope(DType::f64), Error);
}

}  // namespace
}  // namespace primer
