// primer-smoke: proves a fresh build works end to end. It trains one Primer-EZ-shaped block (LayerNorm,
// MDHA with causal depthwise convolutions, squared-ReLU FFN, tied embeddings, fused cross-entropy) with
// plain SGD on a deterministic token pattern, checks the loss falls, and reports what CUDA this build has.
#include <cmath>
#include <cstdlib>
#include <vector>

#include "primer/autograd/grad_mode.h"
#include "primer/backend/backend.h"
#include "primer/backend/cuda_info.h"
#include "primer/core/logging.h"
#include "primer/ops/activation.h"
#include "primer/ops/attention.h"
#include "primer/ops/causal_dconv.h"
#include "primer/ops/cross_entropy.h"
#include "primer/ops/elementwise.h"
#include "primer/ops/embedding.h"
#include "primer/ops/linear.h"
#include "primer/ops/normalization.h"
#include "primer/tensor/random.h"

namespace {

using primer::DType;
using primer::Shape;
using primer::Tensor;
using primer::Variable;
namespace ops = primer::ops;

constexpr std::int64_t kVocab = 64, kModel = 64, kHeads = 4, kFfn = 256, kBatch = 8, kTime = 32;

struct Block {
  std::vector<Variable> parameters;
  Variable add(Tensor value) {
    parameters.emplace_back(std::move(value), true);
    return parameters.back();
  }
};

Tensor pattern_tokens(primer::Generator& generator) {
  // Each sequence starts anywhere and follows t -> (5 t + 3) mod V: learnable, not memorisable by position.
  std::vector<std::int32_t> ids(kBatch * (kTime + 1));
  for (std::int64_t b = 0; b < kBatch; ++b) {
    std::int32_t token = static_cast<std::int32_t>(generator.next_u64() % kVocab);
    for (std::int64_t t = 0; t <= kTime; ++t) {
      ids[b * (kTime + 1) + t] = token;
      token = static_cast<std::int32_t>((5 * token + 3) % kVocab);
    }
  }
  return Tensor::from_vector(ids, {kBatch, kTime + 1});
}

}  // namespace

int main() {
  primer::Generator generator(1234);
  Block block;
  const double init = 1.0 / std::sqrt(static_cast<double>(kModel));
  const Variable embedding = block.add(primer::randn({kVocab, kModel}, DType::f32, generator));
  const Variable norm1 = block.add(Tensor::full({kModel}, 1.0, DType::f32));
  const Variable norm2 = block.add(Tensor::full({kModel}, 1.0, DType::f32));
  const Variable norm_final = block.add(Tensor::full({kModel}, 1.0, DType::f32));
  Variable projection[4];
  for (auto& w : projection) w = block.add(primer::randn({kModel, kModel}, DType::f32, generator, init));
  Variable dconv[3];
  for (auto& w : dconv) {
    Tensor taps = Tensor::empty({3, kModel}, DType::f32);
    taps.slice(0, 0, 1).fill(0.5);
    taps.slice(0, 1, 3).fill(0.5 / 3.0);
    w = block.add(taps);
  }
  const Variable ffn_in = block.add(primer::randn({kFfn, kModel}, DType::f32, generator, init));
  const Variable ffn_out =
      block.add(primer::randn({kModel, kFfn}, DType::f32, generator, 1.0 / std::sqrt(kFfn)));

  auto loss_of = [&](const Tensor& tokens) {
    const Tensor inputs = tokens.slice(1, 0, kTime).contiguous();
    const Tensor targets = tokens.slice(1, 1, kTime + 1).contiguous().view({-1});
    Variable x = ops::embedding(embedding, inputs);
    const Variable h = ops::layer_norm(x, norm1, Variable(), 1e-6);
    Variable qkv[3];
    for (int i = 0; i < 3; ++i) {
      qkv[i] = ops::reshape(ops::causal_dconv(ops::linear(h, projection[i]), dconv[i]),
                            {kBatch, kTime, kHeads, kModel / kHeads});
    }
    const Variable attended = ops::causal_attention(qkv[0], qkv[1], qkv[2], Variable(),
                                                    1.0 / std::sqrt(static_cast<double>(kModel / kHeads)));
    x = ops::add(x, ops::linear(ops::reshape(attended, {kBatch, kTime, kModel}), projection[3]));
    const Variable hidden =
        ops::squared_relu(ops::linear(ops::layer_norm(x, norm2, Variable(), 1e-6), ffn_in));
    x = ops::add(x, ops::linear(hidden, ffn_out));
    const Variable final_hidden = ops::scale(ops::layer_norm(x, norm_final, Variable(), 1e-6), init);
    const Variable logits = ops::linear(ops::reshape(final_hidden, {kBatch * kTime, kModel}), embedding);
    return ops::cross_entropy(logits, targets, 1e-4);
  };

  constexpr int kSteps = 150;
  constexpr double kLearningRate = 0.5;
  double first_loss = 0.0, last_loss = 0.0;
  for (int step = 0; step < kSteps; ++step) {
    const Variable loss = loss_of(pattern_tokens(generator));
    loss.backward();
    {
      const primer::NoGradGuard no_grad;
      for (Variable& p : block.parameters) {
        primer::backend_for(p.device()).add_scaled(p.value(), 1.0, p.grad(), -kLearningRate, p.value());
        p.zero_grad();
      }
    }
    last_loss = loss.value().item();
    if (step == 0) first_loss = last_loss;
    if (step % 25 == 0 || step == kSteps - 1) primer::log().info("step {:4d}  loss {:.4f}", step, last_loss);
  }

  const primer::CudaInfo cuda = primer::cuda_info();
  if (!cuda.compiled) {
    primer::log().info("CUDA: not built ({})", cuda.error);
  } else if (cuda.device_count == 0) {
    primer::log().info("CUDA: kernels compiled, no GPU visible{}",
                       cuda.error.empty() ? "" : " (" + cuda.error + ")");
  } else {
    std::string error;
    const bool ok = primer::cuda_self_test(error);
    primer::log().info("CUDA: {} GPU(s), GPU 0 is {}; kernel self-test {}", cuda.device_count,
                       cuda.device_name, ok ? "passed" : "FAILED: " + error);
    if (!ok) return EXIT_FAILURE;
  }

  const bool learned = last_loss < 0.25 * first_loss;
  primer::log().info("smoke {}: loss {:.3f} -> {:.3f} (uniform guess: {:.3f})", learned ? "passed" : "FAILED",
                     first_loss, last_loss, std::log(static_cast<double>(kVocab)));
  return learned ? EXIT_SUCCESS : EXIT_FAILURE;
}
