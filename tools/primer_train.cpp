// primer-train --config configs/X.yaml [--set section.key=value]... [--resume | --dry-run]
// Trains the model the config describes on its dataset; see docs/training.md. --dry-run validates the
// config and prints the plan (sizes, batch, FLOPs, memory per device, checkpoints) without reading data.
// Under `mpirun -np N` or `srun` each process is one rank of a data-parallel run (docs/distributed.md).
// Exit status: 0 when the run is complete, 128 + N when signal N stopped it (after a checkpoint), 1 on an
// error (on one rank: the whole job ends, so no rank waits for it forever).
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <cstdlib>

#include "primer/core/logging.h"
#include "primer/distributed/communicator.h"
#include "primer/train/stop_signals.h"
#include "primer/train/trainer.h"
#include "primer/train/training_plan.h"

int main(int argc, char** argv) {
  // First, so that every thread made later inherits the blocked signals (train/stop_signals.h).
  primer::train::take_stop_signals_on_their_own_thread();
  CLI::App app{"primer-train: train a Primer or baseline language model"};
  std::string config_path;
  std::vector<std::string> overrides;
  bool resume = false;
  bool dry_run = false;
  app.add_option("--config", config_path, "YAML config")->required();
  app.add_option("--set", overrides, "override a config value: section.key=value (repeatable)");
  app.add_flag("--resume", resume, "continue from the newest valid checkpoint of the run directory");
  app.add_flag("--dry-run", dry_run, "validate the config and print the plan; read no data, train nothing");
  CLI11_PARSE(app, argc, argv);
  primer::distributed::Communicator* world = nullptr;  // set once the launch is known
  try {
    if (dry_run) {
      const primer::train::TrainConfig config = primer::train::load_train_config(config_path, overrides);
      fmt::print("{}", primer::train::describe_plan(config, primer::train::plan_training(config)));
      return EXIT_SUCCESS;
    }
    world = &primer::distributed::world();
    if (world->rank() != 0) primer::log().set_level(spdlog::level::warn);  // one rank narrates the run
    primer::train::Trainer trainer(primer::train::load_train_config(config_path, overrides), *world);
    const primer::train::TrainResult result = trainer.run(resume);
    if (result.interrupted) {
      // 128 + the signal, as a shell reports a process the signal ended: a scheduler sees an unfinished
      // run and can requeue it with --resume.
      primer::log().info("interrupted at step {} by signal {}; checkpoint {}", result.last_step,
                         result.stop_signal, result.checkpoint);
      return 128 + result.stop_signal;
    }
    if (result.steps_run == 0) {
      primer::log().info("the run was already complete at step {}; raise training.steps to train further",
                         result.last_step);
    } else {
      primer::log().info("done at step {}: train loss {:.4f}, validation loss {:.4f}", result.last_step,
                         result.train_loss, result.validation_loss);
    }
    return EXIT_SUCCESS;
  } catch (const std::exception& error) {
    if (world == nullptr || world->world_size() == 1) {
      fmt::print(stderr, "primer-train: {}\n", error.what());
      return EXIT_FAILURE;
    }
    fmt::print(stderr, "primer-train: rank {} of {}: {}\n", world->rank(), world->world_size(), error.what());
    world->abort(EXIT_FAILURE);
  }
}
