// Every differentiable op against float64 central differences, on odd sizes.
#include <gtest/gtest.h>

#include "gradcheck.h"
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

using testing::expect_gradients_match;
using testing::GradcheckOptions;
using Inputs = std::vector<Variable>;

Tensor random(const Shape& shape, std::uint64_t seed, double stddev = 1.0) {
  Generator generator(seed);
  return randn(shape, DType::f64, generator, stddev);
}

TEST(Gradcheck, Arithmetic) {
  const Tensor a = random({3, 7}, 1), b = random({3, 7}, 2);
  expect_gradients_match("add", [](const Inputs& v) { return ops::add(v[0], v[1]); }, {a, b});
  expect_gradients_match("sub", [](const Inputs& v) { return ops::sub(v[0], v[1]); }, {a, b});
  expect_gradients_match("mul", [](const Inputs& v) { return ops::mul(v[0], v[1]); }, {a, b});
  expect_gradients_match("scale", [](const Inputs& v) { return ops::scale(v[0], -1.7); }, {a});
  expect_gradients_match("mean", [](const Inputs& v) { return ops::mean(v[0]); }, {a});
}

TEST(Gradcheck, ShapeViews) {
  const Tensor x = random({2, 3, 5}, 3);
  expect_gradients_match("reshape", [](const Inputs& v) { return ops::reshape(v[0], {5, 6}); }, {x});
  expect_gradients_match("transpose", [](const Inputs& v) { return ops::transpose(v[0], 0, 2); }, {x});
  expect_gradients_match("permute", [](const Inputs& v) { return ops::permute(v[0], {1, 2, 0}); }, {x});
}

TEST(Gradcheck, Matmul) {
  expect_gradients_match("matmul 2d", [](const Inputs& v) { return ops::matmul(v[0], v[1]); },
                         {random({5, 7}, 4), random({7, 3}, 5)});
  expect_gradients_match("matmul batched", [](const Inputs& v) { return ops::matmul(v[0], v[1]); },
                         {random({3, 5, 7}, 6), random({3, 7, 3}, 7)});
  expect_gradients_match("matmul shared b", [](const Inputs& v) { return ops::matmul(v[0], v[1]); },
                         {random({3, 5, 7}, 8), random({7, 3}, 9)});
}

TEST(Gradcheck, Linear) {
  const Tensor x = random({2, 3, 7}, 10), w = random({5, 7}, 11), b = random({5}, 12);
  expect_gradients_match("linear", [](const Inputs& v) { return ops::linear(v[0], v[1], v[2]); }, {x, w, b});
  expect_gradients_match("linear without bias", [](const Inputs& v) { return ops::linear(v[0], v[1]); },
                         {x, w});
}

TEST(Gradcheck, EmbeddingWithRepeatedIds) {
  const Tensor ids = Tensor::from_vector(std::vector<std::int32_t>{3, 0, 3, 10, 5, 3, 0}, {7});
  expect_gradients_match("embedding", [ids](const Inputs& v) { return ops::embedding(v[0], ids); },
                         {random({11, 5}, 13)});
}

TEST(Gradcheck, Normalization) {
  const Tensor x = random({3, 5, 13}, 14, 2.0), gamma = random({13}, 15), beta = random({13}, 16);
  expect_gradients_match("layer_norm",
                         [](const Inputs& v) { return ops::layer_norm(v[0], v[1], v[2], 1e-6); },
                         {x, gamma, beta});
  expect_gradients_match("layer_norm without beta",
                         [](const Inputs& v) { return ops::layer_norm(v[0], v[1], Variable(), 1e-6); },
                         {x, gamma});
  expect_gradients_match("rms_norm", [](const Inputs& v) { return ops::rms_norm(v[0], v[1], 1e-6); },
                         {x, gamma});
}

TEST(Gradcheck, Activations) {
  const Tensor x = random({5, 9}, 17, 2.0);
  GradcheckOptions kink;
  kink.inputs_with_kink_at_zero = {0};
  expect_gradients_match(
      "relu", [](const Inputs& v) { return ops::relu(v[0]); }, {x}, kink);
  expect_gradients_match(
      "squared_relu", [](const Inputs& v) { return ops::squared_relu(v[0]); }, {x}, kink);
  expect_gradients_match("gelu", [](const Inputs& v) { return ops::gelu(v[0]); }, {x});
  expect_gradients_match("silu", [](const Inputs& v) { return ops::silu(v[0]); }, {x});
  expect_gradients_match("swiglu", [](const Inputs& v) { return ops::swiglu(v[0], v[1]); },
                         {x, random({5, 9}, 18)});
}

TEST(Gradcheck, CausalDepthwiseConvolution) {
  expect_gradients_match("causal_dconv", [](const Inputs& v) { return ops::causal_dconv(v[0], v[1]); },
                         {random({3, 7, 5}, 19), random({3, 5}, 20)});
  // Sequences shorter than the kernel exercise the zero padding alone.
  expect_gradients_match("causal_dconv T=1", [](const Inputs& v) { return ops::causal_dconv(v[0], v[1]); },
                         {random({2, 1, 5}, 21), random({3, 5}, 22)});
}

TEST(Gradcheck, Rotary) {
  expect_gradients_match("rotary", [](const Inputs& v) { return ops::rotary(v[0], 3, 10000.0); },
                         {random({2, 5, 3, 6}, 29)});
}

TEST(Gradcheck, CausalAttention) {
  const Shape shape{2, 7, 3, 5};
  const Tensor q = random(shape, 23), k = random(shape, 24), v = random(shape, 25),
               bias = random({3, 7, 7}, 26);
  expect_gradients_match(
      "attention",
      [](const Inputs& in) { return ops::causal_attention(in[0], in[1], in[2], Variable(), 0.37); },
      {q, k, v});
  expect_gradients_match(
      "attention with bias",
      [](const Inputs& in) { return ops::causal_attention(in[0], in[1], in[2], in[3], 1.0); },
      {q, k, v, bias});
  expect_gradients_match(
      "attention, queries the last 3 of 7 positions",
      [](const Inputs& in) { return ops::causal_attention(in[0], in[1], in[2], in[3], 0.6); },
      {random({2, 3, 3, 5}, 30), k, v, random({3, 3, 7}, 31)});
}

TEST(Gradcheck, CrossEntropyWithZLossAndIgnoredTargets) {
  const Tensor targets = Tensor::from_vector(std::vector<std::int32_t>{2, -1, 10, 0, 7, 7}, {6});
  expect_gradients_match("cross_entropy",
                         [targets](const Inputs& v) { return ops::cross_entropy(v[0], targets, 1e-2); },
                         {random({6, 11}, 27, 3.0)});
  expect_gradients_match("cross_entropy no z-loss",
                         [targets](const Inputs& v) { return ops::cross_entropy(v[0], targets); },
                         {random({6, 11}, 28, 3.0)});
}

}  // namespace
}  // namespace primer
