// primer-info --config X.yaml [--seq-len N]: what a model config describes, computed without building
// it: the resolved switches, parameter counts and training FLOPs per token.
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <cstdlib>

#include "primer/models/model_stats.h"

int main(int argc, char** argv) {
  CLI::App app{"Describe a primer model config: switches, parameters, training FLOPs per token"};
  std::string config_path;
  std::int64_t seq_len = 0;
  app.add_option("--config", config_path, "YAML config with a model: section")->required();
  app.add_option("--seq-len", seq_len, "sequence length for the FLOPs figure (default: max_seq_len)");
  CLI11_PARSE(app, argc, argv);

  try {
    const primer::ModelConfig c = primer::load_model_config(config_path);
    const primer::ModelStats stats = primer::model_stats(c);
    const std::int64_t length = seq_len > 0 ? seq_len : c.max_seq_len;
    fmt::print("config            {}\n", config_path);
    fmt::print("variant           {}\n", c.variant);
    fmt::print("shape             {} layers, d_model {}, {} heads x {}, d_ff {}, vocab {}, max_seq_len {}\n",
               c.num_layers, c.d_model, c.num_heads, c.head_dim, c.d_ff, c.vocab_size, c.max_seq_len);
    fmt::print(
        "switches          feed_forward {}, norm {} ({}), dconv {}, position {}, ffn_bias {}, tied {}\n",
        primer::to_string(c.feed_forward), primer::to_string(c.norm), primer::to_string(c.norm_placement),
        primer::to_string(c.dconv), primer::to_string(c.position), c.ffn_bias, c.tie_embeddings);
    fmt::print("parameters        {:>14L} ({:.1f}M)\n", stats.parameters,
               static_cast<double>(stats.parameters) / 1e6);
    fmt::print("  embedding       {:>14L}\n", stats.embedding_parameters);
    fmt::print("  non-embedding   {:>14L}\n", stats.parameters - stats.embedding_parameters);
    fmt::print("train FLOPs/token {:>14.4g} at seq_len {} (6 x {} matmul weights + attention)\n",
               primer::training_flops_per_token(c, length), length, stats.matmul_parameters);
    return EXIT_SUCCESS;
  } catch (const std::exception& error) {
    fmt::print(stderr, "primer-info: {}\n", error.what());
    return EXIT_FAILURE;
  }
}
