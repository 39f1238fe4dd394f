// primer-smoke [CONFIG]: proves a fresh build works end to end. It builds the model a config describes
// (default: configs/tiny_primer_ez.yaml, narrowed, with a 64-token vocabulary), trains it with SGD on a
// deterministic token pattern, checks the loss falls, and reports what CUDA this build has.
#include <cmath>
#include <cstdlib>
#include <vector>

#include "primer/autograd/grad_mode.h"
#include "primer/backend/backend.h"
#include "primer/backend/cuda_info.h"
#include "primer/core/logging.h"
#include "primer/models/language_model.h"
#include "primer/tensor/random.h"

#ifndef PRIMER_SOURCE_DIR
#error "PRIMER_SOURCE_DIR must point at the repository"
#endif

namespace {

using primer::Tensor;

constexpr std::int64_t kVocab = 64, kBatch = 8, kTime = 32;

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

bool report_cuda() {
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
    return ok;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const std::string config_path =
        argc > 1 ? argv[1] : std::string(PRIMER_SOURCE_DIR) + "/configs/tiny_primer_ez.yaml";
    primer::ModelConfig config = primer::load_model_config(config_path);
    // Half as wide and two layers deep: a build check should take seconds, also under the sanitizers.
    config.vocab_size = kVocab;
    config.d_model /= 2;
    config.head_dim /= 2;
    config.d_ff /= 2;
    config.num_layers = 2;
    const primer::LanguageModel model(config);
    primer::log().info("{}: {} model, {} parameters", config_path, config.variant, model.parameter_count());

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
        primer::log().info("step {:4d}  loss {:.4f}", step, last_loss);
    }
    const bool cuda_ok = report_cuda();
    const bool learned = last_loss < 0.25 * first_loss;
    primer::log().info("smoke {}: loss {:.3f} -> {:.3f} (uniform guess: {:.3f})",
                       learned ? "passed" : "FAILED", first_loss, last_loss,
                       std::log(static_cast<double>(kVocab)));
    return learned && cuda_ok ? EXIT_SUCCESS : EXIT_FAILURE;
  } catch (const std::exception& error) {
    primer::log().error("{}", error.what());
    return EXIT_FAILURE;
  }
}
