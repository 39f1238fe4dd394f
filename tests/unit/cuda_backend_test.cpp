// The CUDA kernels against the CPU's: every op case's output and input gradients (tests/support/op_cases.h,
// f32 within 1e-5 relative), bf16 matmuls (within 1e-2), the hot ops at a training shape, two steps of each
// optimizer (the second clipped) and the gradient norm, many tensors a launch, and the device's own failure
// modes. Without a GPU (or in a build without CUDA) every test is skipped with the reason. The CUDA interpret
// mode (an emulated device, docs/cuda_interpret.md) runs them all.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>

#include "comparison.h"
#include "op_cases.h"
#include "primer/backend/backend.h"
#include "primer/backend/cuda_info.h"
#include "primer/nn/relative_position_bias.h"
#include "primer/ops/activation.h"
#include "primer/ops/attention.h"
#include "primer/ops/cross_entropy.h"
#include "primer/ops/elementwise.h"
#include "primer/ops/embedding.h"
#include "primer/ops/linear.h"
#include "primer/ops/matmul_precision.h"
#include "primer/ops/normalization.h"
#include "primer/optim/optimizer.h"
#include "primer/tensor/random.h"

namespace primer {
namespace {

using Inputs = std::vector<Variable>;
// The op under test; integer operands (ids, targets) are captured on the CPU and moved to `device`.
using Op = std::function<Variable(const Inputs&, Device)>;

// The CUDA interpret mode runs these tests on the CPU, where the exact attention kernels (a warp sum per
// score) take minutes at T = 1024: there the training shapes keep their widths with fewer positions or
// heads.
bool interpreted() {
  return cuda_info().interpreted;
}

// Empty when a GPU can run the tests; otherwise why not.
std::string why_no_gpu() {
  const CudaInfo info = cuda_info();
  if (!info.compiled) return "this build has no CUDA backend";
  if (info.device_count == 0) return "no GPU visible: " + info.error;
  return "";
}

class CudaBackend : public ::testing::Test {
 protected:
  void SetUp() override {
    if (const std::string reason = why_no_gpu(); !reason.empty()) GTEST_SKIP() << reason;
  }
};

Tensor random(const Shape& shape, std::uint64_t seed, double scale = 1.0) {
  Generator generator(seed);
  return randn(shape, DType::f32, generator, scale);
}

struct Run {
  Tensor output;
  std::vector<Tensor> gradients;
};

Run run_on(Device device, const Op& op, const std::vector<Tensor>& inputs, const Tensor& seed) {
  Inputs leaves;
  for (const Tensor& input : inputs) leaves.emplace_back(input.to(device).clone(), true);
  const Variable output = op(leaves, device);
  ops::sum(ops::mul(output, Variable(seed.to(device)))).backward();
  Run run{output.value().to(Device::cpu()), {}};
  for (const Variable& leaf : leaves) run.gradients.push_back(leaf.grad().to(Device::cpu()));
  return run;
}

void expect_matches_cpu(const std::string& name, const Op& op, const std::vector<Tensor>& inputs,
                        double tolerance = 1e-5) {
  SCOPED_TRACE(name);
  const Variable probe = op(Inputs(inputs.begin(), inputs.end()), Device::cpu());
  const Tensor seed = random(probe.shape(), 77);
  const Run cpu = run_on(Device::cpu(), op, inputs, seed);
  const Run gpu = run_on(Device::cuda(), op, inputs, seed);
  EXPECT_LT(testing::relative_error(gpu.output, cpu.output), tolerance) << "output";
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    EXPECT_LT(testing::relative_error(gpu.gradients[i], cpu.gradients[i]), tolerance)
        << "gradient of input " << i;
  }
}

TEST_F(CudaBackend, CopiesBetweenHostAndDeviceInEveryDtype) {
  const Tensor host = random({3, 5, 7}, 1);
  for (const DType dtype : {DType::f32, DType::f64, DType::bf16}) {
    const Tensor device = host.to(dtype).to(Device::cuda());
    EXPECT_EQ(device.device(), Device::cuda());
    EXPECT_EQ(device.to(Device::cpu()).to_vector<double>(), host.to(dtype).to_vector<double>())
        << dtype_name(dtype);
    const Tensor transposed = device.transpose(0, 2).contiguous();
    EXPECT_EQ(transposed.to_vector<double>(),
              host.to(dtype).transpose(0, 2).contiguous().to_vector<double>());
  }
  EXPECT_EQ(Tensor::full({4}, 2.5, DType::f32, Device::cuda()).to_vector<float>(),
            std::vector<float>(4, 2.5f));
}

// Mixed precision's conversions take a vectorised path when both sides are contiguous: every element,
// at a length that leaves a tail and at offsets that rule out the 16-byte loads, must round as the CPU
// does (to nearest even, bit for bit).
TEST_F(CudaBackend, ConvertsBetweenF32AndBf16AsTheCpuDoes) {
  const Tensor host = random({1 + 4 * 257 + 3}, 2, 3.0);
  for (const std::int64_t offset : {0, 1, 2}) {
    SCOPED_TRACE(offset);
    const Tensor part = host.slice(0, offset, host.numel());
    const Tensor device_part = host.to(Device::cuda()).slice(0, offset, host.numel());
    const Tensor narrowed = device_part.to(DType::bf16);
    EXPECT_EQ(narrowed.to(Device::cpu()).to_vector<double>(), part.to(DType::bf16).to_vector<double>());
    const Tensor widened = narrowed.slice(0, offset, narrowed.numel()).to(DType::f32);
    EXPECT_EQ(widened.to(Device::cpu()).to_vector<double>(),
              part.to(DType::bf16).slice(0, offset, part.numel()).to(DType::f32).to_vector<double>());
  }
}

class CudaOpCase : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (const std::string reason = why_no_gpu(); !reason.empty()) GTEST_SKIP() << reason;
  }
};

TEST_P(CudaOpCase, MatchesTheCpu) {
  const testing::OpCase& c = testing::op_case(GetParam());
  expect_matches_cpu(
      c.name, [&c](const Inputs& in, Device d) { return c.run(in, testing::op_case_indices(c, d)); },
      testing::op_case_inputs(c, DType::f32));
}

INSTANTIATE_TEST_SUITE_P(CudaBackend, CudaOpCase, ::testing::ValuesIn(testing::op_case_names()),
                         [](const auto& info) { return testing::op_case_test_name(info.param); });

TEST_F(CudaBackend, Bf16MatmulsTrackF32) {
  expect_matches_cpu(
      "linear, bf16 products",
      [](const Inputs& in, Device) {
        const ops::MatmulPrecisionScope scope(DType::bf16);
        return ops::linear(in[0], in[1], in[2]);
      },
      {random({3, 7, 29}, 12), random({41, 29}, 13, 0.2), random({41}, 14)}, 1e-2);
  // A squared ReLU between two products is written and differentiated in bf16.
  expect_matches_cpu(
      "linear_activation into linear, bf16 products",
      [](const Inputs& in, Device) {
        const ops::MatmulPrecisionScope scope(DType::bf16);
        return ops::linear(ops::linear_activation(in[0], in[1], in[2], Activation::squared_relu), in[3]);
      },
      {random({3, 7, 29}, 17), random({43, 29}, 18, 0.2), random({43}, 19), random({11, 43}, 20, 0.2)}, 1e-2);
  // SwiGLU's gate and up, and its output, are written and differentiated in bf16.
  expect_matches_cpu(
      "swiglu between linears, bf16 products",
      [](const Inputs& in, Device) {
        const ops::MatmulPrecisionScope scope(DType::bf16);
        const Variable gate = ops::linear(in[0], in[1], in[2], ops::LinearOutput::next_product);
        const Variable up = ops::linear(in[0], in[3], Variable(), ops::LinearOutput::next_product);
        return ops::linear(ops::swiglu(gate, up), in[4]);
      },
      {random({3, 7, 29}, 21), random({43, 29}, 22, 0.2), random({43}, 23), random({43, 29}, 24, 0.2),
       random({11, 43}, 25, 0.2)},
      1e-2);
  // The LM head writes its logits' gradient straight into the bf16 operand of the products after it.
  const Tensor targets = Tensor::from_vector<std::int32_t>({3, -1, 40, 0, 17, 8, 22}, {7});
  expect_matches_cpu(
      "linear_cross_entropy, bf16 products",
      [targets](const Inputs& in, Device device) {
        const ops::MatmulPrecisionScope scope(DType::bf16);
        return ops::linear_cross_entropy(in[0], in[1], targets.to(device));
      },
      {random({7, 29}, 15), random({41, 29}, 16, 0.2)}, 1e-2);
}

TEST_F(CudaBackend, OptimizerStepsMatchTheCpu) {
  for (const bool adafactor : {false, true}) {
    SCOPED_TRACE(adafactor ? "adafactor" : "adamw");
    std::vector<Tensor> results[2];
    for (const Device device : {Device::cpu(), Device::cuda()}) {
      // Adafactor's three kinds: factored (both dimensions >= 128), full second moments, and taps.
      std::vector<nn::NamedParameter> parameters{
          {"matrix", Variable(random({9, 13}, 35).to(device), true)},
          {"large", Variable(random({130, 140}, 38).to(device), true)},
          {"vector", Variable(random({13}, 36).to(device), true), nn::ParameterRole::scale_or_bias},
          {"taps", Variable(random({3, 13}, 39).to(device), true), nn::ParameterRole::convolution_taps},
          {"no gradient", Variable(random({5, 7}, 40).to(device), true)}};
      // More parameters than one CUDA AdamW launch takes (64), of sizes that end inside a block of
      // 2,048 elements, decayed or not.
      for (int i = 0; i < 70; ++i) {
        parameters.push_back(
            {fmt::format("many.{}", i),
             Variable(random({1 + 97 * i}, 100 + static_cast<std::uint64_t>(i)).to(device), true),
             i % 3 == 0 ? nn::ParameterRole::scale_or_bias : nn::ParameterRole::dense});
      }
      for (const auto& p : parameters) {
        if (p.name == "no gradient") continue;
        ops::sum(ops::mul(p.variable, Variable(random(p.variable.shape(), 37).to(device)))).backward();
      }
      const auto optimizer =
          adafactor ? optim::make_adafactor(parameters, {}) : optim::make_adamw(parameters, {});
      optimizer->step(0.01, 1.0);
      optimizer->step(0.01, 0.5);
      auto& out = results[device.kind == DeviceKind::cuda ? 1 : 0];
      for (const auto& p : parameters) out.push_back(p.variable.value().to(Device::cpu()));
      for (const auto& [name, tensor] : optimizer->state()) out.push_back(tensor.to(Device::cpu()));
    }
    ASSERT_EQ(results[0].size(), results[1].size());
    for (std::size_t i = 0; i < results[0].size(); ++i) {
      EXPECT_LT(testing::relative_error(results[1][i], results[0][i]), 1e-5) << "tensor " << i;
    }
  }
}

// The gradient norm's squares, many gradients a launch on the GPU: more gradients than one launch takes
// (128), sizes that end inside a block of 16,384 elements and span several blocks, and one without a
// gradient.
TEST_F(CudaBackend, GradientNormMatchesTheCpu) {
  double squares[2];
  for (const Device device : {Device::cpu(), Device::cuda()}) {
    std::vector<nn::NamedParameter> parameters;
    for (int i = 0; i < 140; ++i) {
      const std::int64_t size = 1 + 331 * static_cast<std::int64_t>(i);
      Variable variable(Tensor::zeros({size}, DType::f32, device), true);
      if (i != 7) variable.set_grad(random({size}, 200 + static_cast<std::uint64_t>(i)).to(device));
      parameters.push_back({fmt::format("p{}", i), variable});
    }
    squares[device.kind == DeviceKind::cuda ? 1 : 0] = optim::gradient_squares(parameters);
  }
  EXPECT_NEAR(squares[1], squares[0], 1e-6 * squares[0]);
}

// The tensor-core kernels (bf16 products, f32 softmax and accumulators) against the CPU's f32: partial
// tiles, fewer queries than keys (decoding), each head size they take, with and without the bias, and the
// training shape. Their error must also show bf16 rounding (above 1e-5), or the exact f32 kernels ran.
// T5's buckets (32, up to distance 128) for every distance to k_time keys back, on the CPU.
Tensor t5_distance_buckets(std::int64_t k_time) {
  std::vector<std::int32_t> buckets;
  for (std::int64_t distance = 0; distance < k_time; ++distance)
    buckets.push_back(nn::RelativePositionBias::bucket(distance, 32, 128));
  return Tensor::from_vector(buckets, {k_time});
}

// A bucket of its own for every distance: the table's gradient then shows each distance's sum, which T5's
// wide far buckets would average away (a distance left out of the sum fails here).
Tensor one_bucket_per_distance(std::int64_t k_time) {
  std::vector<std::int32_t> buckets;
  for (std::int64_t distance = 0; distance < k_time; ++distance)
    buckets.push_back(static_cast<std::int32_t>(distance));
  return Tensor::from_vector(buckets, {k_time});
}

// seed [B, T, H, D] with every row but `kept` zeroed. A loss that reaches the bias through two query rows
// puts one or two terms of about the same size on each distance, where all rows would bury the far
// distances' single terms under the near ones' sums.
Tensor only_rows(const Tensor& seed, const std::vector<std::int64_t>& kept) {
  std::vector<float> values = seed.to_vector<float>();
  const std::int64_t time = seed.size(1), row = seed.size(2) * seed.size(3);
  for (std::size_t i = 0; i < values.size(); ++i) {
    const std::int64_t t = static_cast<std::int64_t>(i) / row % time;
    if (std::find(kept.begin(), kept.end(), t) == kept.end()) values[i] = 0.0f;
  }
  return Tensor::from_vector(values, seed.shape());
}

TEST_F(CudaBackend, AttentionOnTensorCoresTracksTheCpu) {
  enum class Bias { none, t5, per_distance };
  struct Case {
    const char* name;
    std::int64_t batch, q_time, k_time, heads, head_dim;
    Bias bias;
  };
  for (const Case& c :
       {Case{"head_dim 64, 130 positions, T5 bias", 2, 130, 130, 3, 64, Bias::t5},
        Case{"head_dim 32, 70 queries over 130 keys, T5 bias", 2, 70, 130, 2, 32, Bias::t5},
        Case{"head_dim 32, 128 positions, a bucket per distance", 2, 128, 128, 2, 32, Bias::per_distance},
        Case{"head_dim 32, 50 queries over 150 keys, a bucket per distance", 1, 50, 150, 2, 32,
             Bias::per_distance},
        Case{"head_dim 128, 64 positions", 1, 64, 64, 2, 128, Bias::none},
        Case{"head_dim 64, 1024 positions, T5 bias", 1, 1024, 1024, interpreted() ? 2 : 12, 64, Bias::t5}}) {
    SCOPED_TRACE(c.name);
    std::vector<Tensor> inputs{random({c.batch, c.q_time, c.heads, c.head_dim}, 60, 0.5),
                               random({c.batch, c.k_time, c.heads, c.head_dim}, 61),
                               random({c.batch, c.k_time, c.heads, c.head_dim}, 62)};
    const Tensor buckets =
        c.bias == Bias::t5 ? t5_distance_buckets(c.k_time) : one_bucket_per_distance(c.k_time);
    if (c.bias != Bias::none)
      inputs.push_back(random({c.bias == Bias::t5 ? 32 : c.k_time, c.heads}, 63, 0.3));
    const double scale = 1.0 / std::sqrt(static_cast<double>(c.head_dim));
    // The CPU's reference in f32: under bf16 products a CPU with AVX512-BF16 rounds its operands too.
    const Op attention = [scale, buckets](const Inputs& in, Device device) {
      const ops::MatmulPrecisionScope precision(device == Device::cpu() ? DType::f32 : DType::bf16);
      return ops::causal_attention(
          in[0], in[1], in[2],
          in.size() > 3 ? ops::RelativeBias{in[3], buckets.to(device)} : ops::RelativeBias{}, scale);
    };
    Tensor seed = random({c.batch, c.q_time, c.heads, c.head_dim}, 64);
    if (c.bias == Bias::per_distance) seed = only_rows(seed, {c.q_time / 2 + 5, c.q_time - 1});
    const auto cpu = run_on(Device::cpu(), attention, inputs, seed);
    const auto gpu = run_on(Device::cuda(), attention, inputs, seed);
    const double output_error = testing::relative_error(gpu.output, cpu.output);
    EXPECT_LT(output_error, 1e-2) << "output";
    EXPECT_GT(output_error, 1e-5) << "output: no bf16 rounding, so the tensor-core kernels did not run";
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      EXPECT_LT(testing::relative_error(gpu.gradients[i], cpu.gradients[i]), 2e-2)
          << "gradient of input " << i;
    }
  }
}

// The model's hot ops at one training shape of the 111M models (T = 1024, d_model 768, 12 heads of 64,
// d_ff 3072; the attention at T = 128 in the interpret mode), where reductions run over long rows and many
// blocks.
TEST_F(CudaBackend, HotOpsAtATrainingShape) {
  expect_matches_cpu("linear 768 -> 3072",
                     [](const Inputs& in, Device) { return ops::linear(in[0], in[1], in[2]); },
                     {random({1, 1024, 768}, 40), random({3072, 768}, 41, 0.036), random({3072}, 42)});
  expect_matches_cpu("layer_norm 768",
                     [](const Inputs& in, Device) { return ops::layer_norm(in[0], in[1], in[2], 1e-6); },
                     {random({1, 1024, 768}, 43, 3.0), random({768}, 44), random({768}, 45)});
  const std::int64_t positions = interpreted() ? 128 : 1024;
  const Tensor buckets = t5_distance_buckets(positions);
  expect_matches_cpu("attention with bias",
                     [buckets](const Inputs& in, Device device) {
                       return ops::causal_attention(in[0], in[1], in[2], {in[3], buckets.to(device)}, 1.0);
                     },
                     {random({1, positions, 12, 64}, 46, 0.125), random({1, positions, 12, 64}, 47),
                      random({1, positions, 12, 64}, 48), random({32, 12}, 49, 0.1)});
  Generator target_generator(50);
  const Tensor targets = randint({1024}, 0, 32768, target_generator);
  expect_matches_cpu(
      "cross_entropy over 32768",
      [targets](const Inputs& in, Device d) { return ops::cross_entropy(in[0], targets.to(d), 1e-4); },
      {random({1024, 32768}, 51, 3.0)});
}

// A bad id or target must not be read past the end of a table on the device; the kernel skips it and
// the backend raises it, naming the op, position and value, at the next synchronisation.
TEST_F(CudaBackend, BadIdsAndTargetsAreReportedNotReadPastTheEnd) {
  const Variable table(random({11, 6}, 52).to(Device::cuda()), true);
  const Tensor bad_ids = Tensor::from_vector(std::vector<std::int32_t>{1, 4, 50}, {3}).to(Device::cuda());
  try {
    (void)ops::embedding(table, bad_ids).value().to(Device::cpu());
    ADD_FAILURE() << "an id outside the table went unreported";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("embedding: id 50 at position 2 is outside [0, 11)"),
              std::string::npos)
        << error.what();
  }
  const Tensor good_ids = Tensor::from_vector(std::vector<std::int32_t>{1, 4, 10}, {3}).to(Device::cuda());
  EXPECT_NO_THROW((void)ops::embedding(table, good_ids).value().to(Device::cpu()))
      << "the fault was not reset";

  const Variable logits(random({3, 13}, 53).to(Device::cuda()), true);
  const Tensor bad_targets =
      Tensor::from_vector(std::vector<std::int32_t>{0, 13, -1}, {3}).to(Device::cuda());
  EXPECT_THROW((void)ops::cross_entropy(logits, bad_targets).value().item(), Error);

  // A relative bias bucket outside the table (the model builds its own, but ops::causal_attention takes
  // any): reported by distance, as the CPU does, and the table is not read past its end.
  const Variable q(random({1, 5, 2, 8}, 56).to(Device::cuda()), true);
  const Variable bias_table(random({4, 2}, 57).to(Device::cuda()), true);
  const Tensor bad_buckets =
      Tensor::from_vector(std::vector<std::int32_t>{0, 1, 2, 9, 3}, {5}).to(Device::cuda());
  try {
    (void)ops::causal_attention(q, q, q, ops::RelativeBias{bias_table, bad_buckets}, 0.3)
        .value()
        .to(Device::cpu());
    ADD_FAILURE() << "a bucket outside the bias table went unreported";
  } catch (const Error& error) {
    EXPECT_NE(
        std::string(error.what()).find("attention: relative bias bucket 9 at position 3 is outside [0, 4)"),
        std::string::npos)
        << error.what();
  }
}

// cuBLASLt may assume 256-byte aligned operands unless told otherwise: a view that starts one float into
// its storage must still multiply correctly; beta 1 adds to out; a product must not be written past a
// too-small out.
TEST_F(CudaBackend, MatmulHandlesMisalignedViewsAccumulatesAndRefusesAWrongOut) {
  const Tensor storage = random({1 + 37 * 29}, 54);
  const Tensor weight = random({29, 41}, 55);
  const Tensor host_a = storage.slice(0, 1, 1 + 37 * 29).view({37, 29});
  const Tensor device_a = storage.to(Device::cuda()).slice(0, 1, 1 + 37 * 29).view({37, 29});
  Tensor expected = Tensor::empty({37, 41}, DType::f32);
  ops::matmul_into(host_a, weight, Tensor(), expected);
  Tensor product = Tensor::empty({37, 41}, DType::f32, Device::cuda());
  ops::matmul_into(device_a, weight.to(Device::cuda()), Tensor(), product);
  EXPECT_LT(testing::relative_error(product.to(Device::cpu()), expected), 1e-5);

  // The LM head's weight gradient: chunks after the first add theirs in the GEMM (beta 1).
  for (const DType dtype : {DType::f32, DType::bf16}) {
    SCOPED_TRACE(dtype_name(dtype));
    const Tensor gradient = random({37, 29}, 58).to(dtype), rows = random({37, 41}, 59).to(dtype);
    const Tensor before = random({29, 41}, 60);
    const Tensor host_sum = before.clone();
    ops::matmul_into(gradient.transpose(0, 1), rows, Tensor(), host_sum, ops::ProductWrite::accumulate);
    const Tensor device_sum = before.to(Device::cuda());
    ops::matmul_into(gradient.to(Device::cuda()).transpose(0, 1), rows.to(Device::cuda()), Tensor(),
                     device_sum, ops::ProductWrite::accumulate);
    EXPECT_LT(testing::relative_error(device_sum.to(Device::cpu()), host_sum), 1e-5);
    EXPECT_GT(testing::relative_error(device_sum.to(Device::cpu()), before), 0.1);
  }

  const Tensor batched = random({2, 3, 4}, 56).to(Device::cuda());
  const Tensor too_small = Tensor::empty({3, 5}, DType::f32, Device::cuda());
  EXPECT_THROW(ops::matmul_into(batched, random({4, 5}, 57).to(Device::cuda()), Tensor(), too_small), Error);
}

}  // namespace
}  // namespace primer
