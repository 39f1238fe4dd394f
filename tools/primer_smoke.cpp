// primer-smoke [CONFIG]: proves a fresh build works end to end. It builds the model a config describes
// (default: tiny_primer_ez's shape, built in, so it runs from any directory), narrowed, with a 64-token
// vocabulary, trains it with SGD on a deterministic token pattern, checks the loss falls, and reports what
// CUDA this build has; where a GPU is visible it runs the CUDA self-test and trains there too.
#include <cmath>
#include <cstdlib>
#include <vector>

#include "primer/autograd/grad_mode.h"
#include "primer/backend/backend.h"
#include "primer/backend/cuda_info.h"
#include "primer/core/logging.h"
#include "primer/models/language_model.h"
#include "primer/tensor/random.h"

namespace {

using primer::Tensor;

constexpr std::int64_t kVocab = 64, kBatch = 8, kTime = 32;

// configs/tiny_primer_ez.yaml's model, so that a build copied to another machine needs no source tree.
constexpr const char* kDefaultModel =
    "model:\n  variant: primer_ez\n  vocab_size: 4096\n  d_model: 128\n  num_layers: 4\n  num_heads: 4\n"
    "  d_ff: 512\n  max_seq_len: 256\n";

// Each sequence starts anywhere and follows t -> (5 t + 3) mod V: learnable, not memorisable by position.
Tensor pattern_tokens(primer::Generator& generator) {
  std::vector<std::int32_t> ids(kBatch * (kTime + 1));
  for (std::int64_t b = 0; b < kBatch; ++b) {
    auto token = static_cast<std::int32_t>(generator.next_u64() % kVocab);
    for (std::int64_t t = 0; t <= kTime; ++t) {
      ids[b * (kTime + 1) + t] = token;
      token = static_cast<std::int32_t>((5 * token + 3) % kVocab);
    }
  }
  return Tensor::from_vector(ids, {kBatch, kTime + 1});
}

// Trains the model on `device` with plain SGD; true when the loss falls to a quarter of its start.
bool learns(const primer::ModelConfig& config, primer::Device device) {
  primer::LanguageModel model(config);
  model.to(device);
  primer::Generator generator(1234);
  constexpr int kSteps = 150;
  constexpr double kLearningRate = 0.5;
  double first_loss = 0.0, last_loss = 0.0;
  for (int step = 0; step < kSteps; ++step) {
    const Tensor tokens = pattern_tokens(generator);
    const Tensor inputs = tokens.slice(1, 0, kTime).contiguous();
    const Tensor targets = tokens.slice(1, 1, kTime + 1).contiguous();
    const primer::Variable loss = model.loss(inputs, targets, 1e-4);
    loss.backward();
    {
      const primer::NoGradGuard no_grad;
      for (primer::nn::NamedParameter& p : model.named_parameters()) {
        primer::backend_for(p.variable.device())
            .add_scaled(p.variable.value(), 1.0, p.variable.grad(), -kLearningRate, p.variable.value());
        p.variable.zero_grad();
      }
    }
    last_loss = loss.value().item();
    if (step == 0) first_loss = last_loss;
    if (step % 25 == 0 || step == kSteps - 1)
      primer::log().info("{}: step {:4d}  loss {:.4f}", device.name(), step, last_loss);
  }
  const bool learned = last_loss < 0.25 * first_loss;
  primer::log().info("{}: {} model, {} parameters, loss {:.3f} -> {:.3f} (uniform guess {:.3f}): {}",
                     device.name(), config.variant, model.parameter_count(), first_loss, last_loss,
                     std::log(static_cast<double>(kVocab)), learned ? "learned" : "FAILED to learn");
  return learned;
}

// Reports what CUDA this build has; with a GPU, runs the kernel self-test and the training check there.
bool check_cuda(const primer::ModelConfig& config) {
  const primer::CudaInfo cuda = primer::cuda_info();
  if (!cuda.compiled) {
    primer::log().info("CUDA: not built ({})", cuda.error);
    return true;
  }
  if (cuda.device_count == 0) {
    primer::log().info("CUDA: kernels compiled, no GPU visible{}",
                       cuda.error.empty() ? "" : " (" + cuda.error + ")");
    return true;
  }
  std::string error;
  const bool self_test = primer::cuda_self_test(error);
  primer::log().info("CUDA: {} GPU(s), GPU 0 is {}; kernel self-test {}", cuda.device_count, cuda.device_name,
                     self_test ? "passed" : "FAILED: " + error);
  if (cuda.interpreted) {
    // 150 emulated steps take minutes; the cuda_interpret ctests train on the emulated device instead.
    primer::log().info(
        "CUDA: the interpret mode; no training check here (ctest cuda_interpret_train has it)");
    return self_test;
  }
  return self_test && learns(config, primer::Device::cuda());
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const std::string source = argc > 1 ? argv[1] : "built-in tiny_primer_ez";
    primer::ModelConfig config =
        argc > 1
            ? primer::load_model_config(argv[1])
            : primer::read_model_config(primer::ConfigNode::parse(kDefaultModel, source).section("model"));
    // Half as wide and two layers deep: a build check should take seconds, also under the sanitizers.
    config.vocab_size = kVocab;
    config.d_model /= 2;
    config.head_dim /= 2;
    config.d_ff /= 2;
    config.num_layers = 2;
    primer::log().info("smoke model from {}", source);
    const bool cpu_ok = learns(config, primer::Device::cpu());
    const bool cuda_ok = check_cuda(config);
    primer::log().info("smoke {}", cpu_ok && cuda_ok ? "passed" : "FAILED");
    return cpu_ok && cuda_ok ? EXIT_SUCCESS : EXIT_FAILURE;
  } catch (const std::exception& error) {
    primer::log().error("{}", error.what());
    return EXIT_FAILURE;
  }
}
