// Training: optimizers against PyTorch, schedules, and the trainer's promises (bit-identical resume,
// corrupt checkpoints skipped, a failed write or a NaN leaves checkpoints intact, bf16 matmuls track
// fp32, bad configs refused).
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <sys/resource.h>
#include <chrono>
#include <cmath>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "comparison.h"
#include "moby_dataset.h"
#include "primer/backend/backend.h"
#include "primer/backend/cuda_info.h"
#include "primer/io/safetensors.h"
#include "primer/models/variants.h"
#include "primer/ops/matmul_precision.h"
#include "primer/tensor/random.h"
#include "primer/train/trainer.h"
#include "temporary.h"

namespace primer::train {
namespace {

namespace fs = std::filesystem;
using testing::relative_error;
using testing::temporary_path;
using namespace optim;  // the optimizers are tested alongside the trainer

// Covers every kind of Adafactor parameter: factored (both dimensions >= 128), a matrix too small to
// factor, a vector, a table, and convolution taps (each row its own parameter); and AdamW's decay rule.
// Gradients [3, 4] and [12] (a parameter without one is left out): squares 169, norm 13; clipped to 6.5
// they halve, and a norm under the limit, a limit of 0 or a non-finite norm leaves them alone.
TEST(Optimizers, GlobalGradientNormAndClipping) {
  std::vector<nn::NamedParameter> parameters;
  for (const std::vector<float>& grad : {std::vector<float>{3, 4}, {12}, {}}) {
    Variable variable(
        Tensor::zeros({static_cast<std::int64_t>(std::max<std::size_t>(grad.size(), 1))}, DType::f32), true);
    if (!grad.empty()) variable.set_grad(Tensor::from_vector(grad, {static_cast<std::int64_t>(grad.size())}));
    parameters.push_back({"p" + std::to_string(parameters.size()), variable});
  }
  EXPECT_DOUBLE_EQ(gradient_squares(parameters), 169.0);
  EXPECT_DOUBLE_EQ(gradient_squares({}), 0.0);
  EXPECT_EQ(clip_factor(13.0, 20.0), 1.0);
  EXPECT_EQ(clip_factor(13.0, 0.0), 1.0);
  EXPECT_EQ(clip_factor(13.0, 6.5), 0.5);
  EXPECT_EQ(clip_factor(std::nan(""), 6.5), 1.0);
}

// The optimizers take the clipping factor into their step (AdamW in its update, Adafactor by scaling the
// gradients once a parameter first): two steps clipped so equal, bit for bit, the steps on gradients
// clipped beforehand by the backend's scale, convolution taps (one gradient, several Adafactor slots)
// included.
TEST(Optimizers, AClippedStepIsTheStepOnClippedGradients) {
  const std::vector<std::pair<Shape, nn::ParameterRole>> shapes = {
      {{130, 140}, nn::ParameterRole::dense},
      {{9, 13}, nn::ParameterRole::dense},
      {{13}, nn::ParameterRole::scale_or_bias},
      {{3, 13}, nn::ParameterRole::convolution_taps}};
  for (const std::string kind : {"adamw", "adafactor"}) {
    SCOPED_TRACE(kind);
    std::vector<Tensor> results[2];
    for (const bool folded : {false, true}) {
      Generator generator(5);
      std::vector<nn::NamedParameter> parameters;
      for (const auto& [shape, role] : shapes) {
        parameters.push_back({fmt::format("p{}", parameters.size()),
                              Variable(randn(shape, DType::f32, generator), true), role});
      }
      const std::unique_ptr<Optimizer> optimizer =
          kind == "adamw" ? make_adamw(parameters, {}) : make_adafactor(parameters, {});
      for (const double factor : {0.3, 0.7}) {
        for (nn::NamedParameter& parameter : parameters) {
          parameter.variable.set_grad(randn(parameter.variable.shape(), DType::f32, generator));
          const Tensor& grad = parameter.variable.grad();
          if (!folded) backend_for(grad.device()).scale(grad, factor, grad);
        }
        optimizer->step(0.01, folded ? factor : 1.0);
      }
      for (const nn::NamedParameter& parameter : parameters)
        results[folded].push_back(parameter.variable.value());
      for (const auto& [name, tensor] : optimizer->state()) results[folded].push_back(tensor);
    }
    ASSERT_EQ(results[0].size(), results[1].size());
    for (std::size_t i = 0; i < results[0].size(); ++i) {
      EXPECT_EQ(results[0][i].to(DType::f64).to_vector<double>(),
                results[1][i].to(DType::f64).to_vector<double>())
          << "tensor " << i;
    }
  }
}

TEST(Optimizers, MatchPyTorchAdamWAndAnIndependentAdafactorOverFiveSteps) {
  constexpr int kSteps = 5;
  Generator generator(11);
  struct Case {
    std::string name;
    Shape shape;
    nn::ParameterRole role;
  };
  const std::vector<Case> cases = {
      {"layers.0.attention.q_proj.weight", {160, 130}, nn::ParameterRole::dense},
      {"layers.0.ffn.in_proj.weight", {5, 7}, nn::ParameterRole::dense},
      {"layers.0.ffn.in_proj.bias", {5}, nn::ParameterRole::scale_or_bias},
      {"layers.0.attention.v_dconv.weight", {3, 6}, nn::ParameterRole::convolution_taps},
      {"embedding.weight", {11, 3}, nn::ParameterRole::table}};
  EXPECT_TRUE(adafactor_factors({160, 130}));
  EXPECT_FALSE(adafactor_factors({127, 4096}));
  EXPECT_FALSE(adafactor_factors({3}));
  std::vector<std::pair<std::string, Tensor>> inputs = {
      {"hyper.steps", Tensor::full({1}, kSteps, DType::f64)},
      {"hyper.lr", Tensor::full({1}, 0.01, DType::f64)},
      {"hyper.beta1", Tensor::full({1}, 0.9, DType::f64)},
      {"hyper.beta2", Tensor::full({1}, 0.95, DType::f64)},
      {"hyper.eps", Tensor::full({1}, 1e-8, DType::f64)},
      {"hyper.weight_decay", Tensor::full({1}, 0.1, DType::f64)}};
  std::map<std::string, std::vector<Tensor>> grads;
  for (const auto& [name, shape, role] : cases) {
    inputs.emplace_back("param." + name, randn(shape, DType::f64, generator));
    for (int step = 1; step <= kSteps; ++step) {
      grads[name].push_back(randn(shape, DType::f64, generator, 0.5));
      inputs.emplace_back("grad." + std::to_string(step) + "." + name, grads[name].back());
    }
  }
  const std::string input_path = temporary_path("optimizer_input.safetensors");
  const std::string output_path = temporary_path("optimizer_expected.safetensors");
  save_safetensors(input_path, inputs);
  const std::string command = std::string(PRIMER_REFERENCE_PYTHON) + " " + PRIMER_SOURCE_DIR +
                              "/tests/reference/optimizer_reference.py " + input_path + " " + output_path;
  ASSERT_EQ(std::system(command.c_str()), 0) << command;
  const auto expected = load_safetensors(output_path);

  for (const std::string kind : {"adamw", "adafactor"}) {
    std::vector<nn::NamedParameter> parameters;
    for (const auto& [name, shape, role] : cases) {
      parameters.push_back(
          {name,
           Variable(std::find_if(inputs.begin(), inputs.end(),
                                 [&](const auto& entry) { return entry.first == "param." + name; })
                        ->second.clone(),
                    true),
           role});
    }
    const std::unique_ptr<Optimizer> optimizer =
        kind == "adamw" ? make_adamw(parameters, {0.9, 0.95, 1e-8, 0.1}) : make_adafactor(parameters, {});
    for (int step = 1; step <= kSteps; ++step) {
      for (nn::NamedParameter& parameter : parameters)
        parameter.variable.set_grad(grads[parameter.name][step - 1]);
      optimizer->step(0.01, 1.0);
      for (const nn::NamedParameter& parameter : parameters) {
        const std::string key = kind + "." + parameter.name + "." + std::to_string(step);
        EXPECT_LT(relative_error(parameter.variable.value(), expected.at(key)), 1e-12) << key;
      }
    }
  }
}

TEST(Schedules, FollowTheirFormulas) {
  const Schedule paper{ScheduleKind::rsqrt, 0.01, 10000, 0.0, 1'000'000};
  EXPECT_DOUBLE_EQ(paper.at(1), 0.01);
  EXPECT_DOUBLE_EQ(paper.at(10000), 0.01);
  EXPECT_DOUBLE_EQ(paper.at(40000), 1.0 / std::sqrt(40000.0));
  const Schedule cosine{ScheduleKind::cosine, 1.0, 10, 0.1, 110};
  EXPECT_DOUBLE_EQ(cosine.at(5), 0.5);
  EXPECT_DOUBLE_EQ(cosine.at(10), 1.0);
  EXPECT_NEAR(cosine.at(60), 0.55, 1e-12);
  EXPECT_NEAR(cosine.at(110), 0.1, 1e-12);
  EXPECT_DOUBLE_EQ((Schedule{ScheduleKind::constant, 2.0, 4, 0.0, 9}).at(2), 1.0);
}

// Every paper config is a complete run with the paper's recipe (primer-spec.md section 3).
TEST(PaperConfigs, AreCompleteRunsWithThePaperRecipe) {
  std::vector<fs::path> paths;
  for (const auto& entry : fs::directory_iterator(fs::path(PRIMER_SOURCE_DIR) / "configs")) {
    const std::string name = entry.path().filename().string();
    if (name.starts_with("c4_") || name.starts_with("lm1b_")) paths.push_back(entry.path());
  }
  EXPECT_EQ(paths.size(), 3 * kVariants.size() + 1) << "every variant at three sizes, and c4_500m.yaml";
  for (const fs::path& path : paths) {
    SCOPED_TRACE(path.string());
    const TrainConfig c = load_train_config(path.string());
    EXPECT_EQ(c.optimizer, OptimizerKind::adafactor);
    EXPECT_EQ(c.schedule.kind, ScheduleKind::rsqrt);
    EXPECT_DOUBLE_EQ(c.schedule.at(1), 0.01);
    EXPECT_DOUBLE_EQ(c.schedule.at(40000), 1.0 / std::sqrt(40000.0));
    EXPECT_EQ(c.seq_len, 512);
    EXPECT_EQ(c.tokens_per_step(), 65536);
    EXPECT_EQ(c.steps, 1'000'000);
    EXPECT_EQ(c.eval_every, 2400);
    EXPECT_EQ(c.clip_grad_norm, 0.0);
    EXPECT_EQ(c.z_loss, 1e-4);
    EXPECT_EQ(c.model.vocab_size, 32128);
    EXPECT_TRUE(c.model.tie_embeddings && c.model.scale_logits);
    EXPECT_EQ(c.model.position, PositionKind::t5_bias);
  }
}

TEST(TrainConfigDefaults, AdafactorDoesNotClipTheGlobalNormUnlessAsked) {
  const std::string path = temporary_path("defaults.yaml");
  std::ofstream(path)
      << "model:\n  variant: primer\n  vocab_size: 64\n  d_model: 16\n  num_layers: 1\n"
         "  num_heads: 2\n  d_ff: 32\n  max_seq_len: 16\n"
         "data:\n  directory: nowhere\n  seq_len: 16\ntraining:\n  steps: 1\noptimizer:\n  name: adamw\n"
         "schedule:\n  name: constant\ncheckpoint:\n  directory: nowhere\n";
  EXPECT_EQ(load_train_config(path).clip_grad_norm, 1.0);
  EXPECT_EQ(load_train_config(path, {"optimizer.name=adafactor"}).clip_grad_norm, 0.0);
  EXPECT_EQ(load_train_config(path, {"optimizer.name=adafactor", "training.clip_grad_norm=2"}).clip_grad_norm,
            2.0);
}

// The curve is drawn whatever the run directory is called: gnuplot gets its script without a shell.
TEST(LossCurve, IsDrawnIntoADirectoryWithQuotesAndSpacesInItsName) {
  const fs::path directory = temporary_path("run \"it's\" $HOME");
  fs::create_directories(directory);
  std::ofstream(directory / "metrics.jsonl") << "{\"step\": 1, \"loss\": 5.0}\n{\"step\": 2, \"loss\": 4.0, "
                                                "\"validation_loss\": 4.5}\n";
  ASSERT_TRUE(plot_loss_curve((directory / "metrics.jsonl").string(), (directory / "loss.png").string()));
  std::ifstream png(directory / "loss.png", std::ios::binary);
  std::string magic(8, '\0');
  png.read(magic.data(), 8);
  EXPECT_EQ(magic, std::string("\x89PNG\r\n\x1a\n", 8));
}

// A tiny model on the test text, small enough for a few steps per second under the sanitizers.
class TrainerTest : public ::testing::Test {
 protected:
  void SetUp() override { dataset_ = testing::moby_dataset(); }

  std::string write_config(const std::string& run, const std::string& extra = "") {
    const std::string path = temporary_path(run + ".yaml");
    std::ofstream(path) << "model:\n  variant: primer\n  vocab_size: 1000\n  d_model: 32\n  num_layers: 2\n"
                           "  num_heads: 4\n  d_ff: 64\n  max_seq_len: 32\n"
                        << "data:\n  directory: " << dataset_ << "\n  seq_len: 32\n"
                        << "training:\n  batch_size: 4\n  gradient_accumulation: 2\n  steps: 8\n"
                        << "optimizer:\n  name: adafactor\n"
                        << "schedule:\n  name: rsqrt\n  lr: 0.01\n  warmup_steps: 4\n"
                        << "eval:\n  every: 4\n  batches: 2\n"
                        << "checkpoint:\n  directory: " << temporary_path(run) << "\n  every: 4\n  keep: 5\n"
                        << extra;
    return path;
  }

  // One metric of metrics.jsonl, in the order logged.
  static std::vector<double> series(const std::string& run, const std::string& key) {
    std::vector<double> values;
    std::ifstream in(run + "/metrics.jsonl");
    for (std::string line; std::getline(in, line);) {
      const auto record = nlohmann::json::parse(line);
      if (record.contains(key)) values.push_back(record[key].get<double>());
    }
    return values;
  }
  static std::vector<double> losses(const std::string& run) { return series(run, "loss"); }

  std::string dataset_;
};

TEST_F(TrainerTest, ResumingAfterKStepsEqualsAnUninterruptedRunBitForBit) {
  const TrainResult whole = Trainer(load_train_config(write_config("whole"))).run(false);
  EXPECT_EQ(whole.last_step, 8);
  // gnuplot is a dependency (tools/setup.sh installs it): the curve must be there, and be a PNG.
  std::ifstream png(temporary_path("whole") + "/loss.png", std::ios::binary);
  std::string magic(8, '\0');
  png.read(magic.data(), 8);
  EXPECT_EQ(magic, std::string("\x89PNG\r\n\x1a\n", 8)) << "no loss.png from the run";

  Trainer(load_train_config(write_config("resumed"))).run(false);
  try {
    Trainer(load_train_config(write_config("resumed"))).run(false);
    ADD_FAILURE() << "a fresh run started over an earlier run's checkpoints";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("already holds checkpoints: pass --resume"), std::string::npos);
  }
  fs::remove_all(temporary_path("resumed") + "/checkpoints/step-00000008");  // as if stopped after step 4
  const TrainResult resumed = Trainer(load_train_config(write_config("resumed"))).run(true);
  EXPECT_EQ(resumed.last_step, 8);
  EXPECT_EQ(losses(temporary_path("resumed")), losses(temporary_path("whole")));
  const auto a = load_safetensors(temporary_path("whole") + "/checkpoints/step-00000008/model.safetensors");
  const auto b = load_safetensors(temporary_path("resumed") + "/checkpoints/step-00000008/model.safetensors");
  ASSERT_EQ(a.size(), b.size());
  for (const auto& [name, tensor] : a)
    EXPECT_EQ(tensor.to_vector<float>(), b.at(name).to_vector<float>()) << name;
}

// Loss alone (about 6.9 nats, moving little in 8 steps) cannot tell a broken bf16 backward: the first
// loss checks the forward pass tightly, the gradient norm at every step checks the backward pass, and
// the loss drop over the run checks that the updates go where fp32's go. On a CPU without bf16 GEMMs
// (and under ONEDNN_MAX_CPU_ISA=AVX2) the trainer takes f32 products, and the runs must be equal.
TEST_F(TrainerTest, Bf16MatmulsTrackTheFp32Run) {
  const TrainResult fp32 = Trainer(load_train_config(write_config("fp32"))).run(false);
  const TrainResult bf16 =
      Trainer(load_train_config(write_config("bf16"), {"training.precision=bf16"})).run(false);
  const std::vector<double> a = losses(temporary_path("fp32")), b = losses(temporary_path("bf16"));
  ASSERT_EQ(a.size(), b.size());
  EXPECT_NEAR(b.front(), a.front(), 2e-3 * a.front()) << "first loss (forward only)";
  const std::vector<double> norm_a = series(temporary_path("fp32"), "grad_norm"),
                            norm_b = series(temporary_path("bf16"), "grad_norm");
  ASSERT_EQ(norm_a.size(), norm_b.size());
  for (std::size_t i = 0; i < norm_a.size(); ++i)
    EXPECT_NEAR(norm_b[i], norm_a[i], 0.02 * norm_a[i]) << "gradient norm at step " << i + 1;
  const double drop_a = a.front() - a.back(), drop_b = b.front() - b.back();
  EXPECT_GT(drop_a, 0.05) << "the fp32 run did not learn";
  EXPECT_NEAR(drop_b, drop_a, 0.1 * drop_a) << "loss drop over the run";
  if (ops::fast_bf16_products(Device::cpu())) {
    EXPECT_NE(a, b) << "the bf16 run computed exactly the fp32 numbers";
  } else {
    // ctest's avx2_isa: run of this test: without bf16 GEMMs the trainer uses f32 products instead.
    EXPECT_EQ(a, b) << "on a CPU without bf16 GEMMs, precision bf16 should train with f32 products";
  }
  EXPECT_NEAR(bf16.validation_loss, fp32.validation_loss, 0.01 * fp32.validation_loss);
}

// A write that fails part-way (here the file-size limit, which fails writes as a full disk does)
// must leave the newest complete checkpoint as it was, and no half-written directory behind.
TEST_F(TrainerTest, AFailedCheckpointWriteLeavesThePreviousOneIntact) {
  const TrainConfig config = load_train_config(write_config("disk_full"));
  Trainer(config).run(false);
  const std::string run = temporary_path("disk_full");
  CheckpointStore store(run, 5);
  ASSERT_EQ(store.latest_valid(), run + "/checkpoints/step-00000008");
  const auto before = load_safetensors(run + "/checkpoints/step-00000008/model.safetensors");

  LanguageModel model(config.model);
  const auto parameters = model.named_parameters();
  const auto optimizer = make_adamw(parameters, config.adamw);
  rlimit original{};
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &original), 0);
  const auto previous_handler = std::signal(SIGXFSZ, SIG_IGN);
  rlimit limited = original;
  limited.rlim_cur = 4096;
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &limited), 0);
  std::string message;
  try {
    store.save(model, *optimizer, TrainingState{12, {}}, config.resolved_yaml);
  } catch (const std::exception& error) {
    message = error.what();
  }
  setrlimit(RLIMIT_FSIZE, &original);
  std::signal(SIGXFSZ, previous_handler);

  EXPECT_NE(message.find("step-00000012"), std::string::npos)
      << "the error should name the checkpoint: " << message;
  EXPECT_EQ(store.latest_valid(), run + "/checkpoints/step-00000008");
  for (const auto& entry : fs::directory_iterator(run + "/checkpoints")) {
    EXPECT_EQ(entry.path().filename().string().find("step-00000012"), std::string::npos) << entry.path();
  }
  const auto after = load_safetensors(run + "/checkpoints/step-00000008/model.safetensors");
  for (const auto& [name, tensor] : before)
    EXPECT_EQ(tensor.to_vector<float>(), after.at(name).to_vector<float>());
}

TEST_F(TrainerTest, CorruptCheckpointsAreSkippedAndMismatchedOnesRefused) {
  Trainer(load_train_config(write_config("corrupt"))).run(false);
  const std::string newest = temporary_path("corrupt") + "/checkpoints/step-00000008/model.safetensors";
  fs::resize_file(newest, fs::file_size(newest) - 7);
  CheckpointStore store(temporary_path("corrupt"), 5);
  EXPECT_EQ(store.latest_valid(), temporary_path("corrupt") + "/checkpoints/step-00000004");

  const std::string wider = write_config("corrupt", "");
  std::string text = (std::stringstream() << std::ifstream(wider).rdbuf()).str();
  text.replace(text.find("d_model: 32"), 11, "d_model: 48");
  std::ofstream(wider) << text;
  try {
    Trainer(load_train_config(wider)).run(true);
    FAIL() << "resumed a checkpoint of another model shape";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what())
                  .find("'embedding.weight' has shape [1000, 32] but the model expects [1000, 48]"),
              std::string::npos)
        << error.what();
  }
  EXPECT_TRUE(fs::exists(temporary_path("corrupt") + "/checkpoints/step-00000004/model.safetensors"));
}

TEST_F(TrainerTest, NonFiniteLossStopsWithoutTouchingCheckpoints) {
  const std::string config = write_config("diverging");
  Trainer(load_train_config(config, {"training.steps=4"})).run(false);
  try {
    Trainer(load_train_config(
                config, {"schedule.lr=1e30", "training.clip_grad_norm=0", "optimizer.relative_step=false"}))
        .run(true);
    FAIL() << "a diverging run did not stop";
  } catch (const TrainingError& error) {
    EXPECT_NE(std::string(error.what()).find("non-finite"), std::string::npos) << error.what();
  }
  const auto entries =
      std::distance(fs::directory_iterator(temporary_path("diverging") + "/checkpoints"), {});
  EXPECT_EQ(entries, 1) << "only the step-4 checkpoint may exist";
}

// A requeued job whose checkpoints are all broken must not quietly start over at step 0.
TEST_F(TrainerTest, ResumingOverOnlyBrokenCheckpointsStopsAndNamesEach) {
  Trainer(load_train_config(write_config("broken"))).run(false);
  const std::string checkpoints = temporary_path("broken") + "/checkpoints";
  std::ofstream(checkpoints + "/step-00000008/model.safetensors", std::ios::app) << "garbage";
  fs::remove(checkpoints + "/step-00000004/optimizer.safetensors");
  try {
    Trainer(load_train_config(write_config("broken"))).run(true);
    ADD_FAILURE() << "resumed over broken checkpoints";
  } catch (const TrainingError& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("step-00000008: model.safetensors does not match its checksum"), std::string::npos)
        << message;
    EXPECT_NE(message.find("step-00000004: no optimizer.safetensors"), std::string::npos) << message;
  }
  // No checkpoints at all is a fresh start.
  fs::remove_all(checkpoints);
  EXPECT_EQ(Trainer(load_train_config(write_config("broken"))).run(true).last_step, 8);
}

TEST_F(TrainerTest, SignalWritesACheckpointAndStopsCleanly) {
  Trainer trainer(load_train_config(write_config("signalled"), {"training.steps=100000"}));
  std::thread sender([] {
    std::this_thread::sleep_for(std::chrono::seconds(1));
    std::raise(SIGINT);
  });
  const TrainResult result = trainer.run(false);
  sender.join();
  EXPECT_TRUE(result.interrupted);
  EXPECT_EQ(result.stop_signal, SIGINT);
  EXPECT_LT(result.last_step, 100000);
  EXPECT_EQ(result.checkpoint,
            temporary_path("signalled") + fmt::format("/checkpoints/step-{:08}", result.last_step));
  EXPECT_EQ(CheckpointStore(temporary_path("signalled"), 5).latest_valid(), result.checkpoint);
}

TEST_F(TrainerTest, BadConfigsAndOverridesAreNamed) {
  const std::string config = write_config("bad");
  auto expect_error = [&](const std::vector<std::string>& overrides, const std::string& expected) {
    try {
      Trainer(load_train_config(config, overrides)).run(false);
      ADD_FAILURE() << "accepted; expected: " << expected;
    } catch (const Error& error) {
      EXPECT_NE(std::string(error.what()).find(expected), std::string::npos) << error.what();
    }
  };
  expect_error({"training.steps"}, "--set training.steps: expected section.key=value");
  expect_error({"training.stepz=3"}, "training.stepz: unknown key; did you mean 'training.steps'?");
  expect_error({"training.steps=many"}, "training.steps: expected an integer, got 'many'");
  expect_error({"optimizer.name=sgd"}, "optimizer.name: 'sgd' is not one of {adafactor, adamw}");
  expect_error({"data.seq_len=64"}, "data.seq_len: 64 exceeds model.max_seq_len 32");
  expect_error({"data.directory=/nonexistent/tokens"}, "/nonexistent/tokens: no meta.json");
  expect_error({"model.vocab_size=500"},
               "the dataset's vocabulary of 1000 does not fit model.vocab_size 500");
  expect_error({"training.precision=fp16"}, "training.precision: 'fp16' is not one of");
  expect_error({"training.device=tpu"}, "training.device: 'tpu' is not one of");
  if (cuda_info().device_count == 0) expect_error({"training.device=cuda"}, "training.device: cuda: ");
  EXPECT_FALSE(fs::exists(temporary_path("bad"))) << "a refused run wrote to its run directory";
}

}  // namespace
}  // namespace primer::train
