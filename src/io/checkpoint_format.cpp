#include "primer/io/checkpoint_format.h"

#include <fmt/format.h>
#include <zlib.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "primer/core/error.h"
#include "primer/core/logging.h"

namespace primer {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

bool is_optimizer_state(const std::string& file) {
  return file == kCheckpointOptimizer || file.starts_with("optimizer.shard-");
}

std::uint64_t file_crc(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  PRIMER_CHECK(in.good(), "{}: cannot read", path.string());
  std::vector<char> buffer(1 << 20);
  uLong crc = crc32_z(0, nullptr, 0);
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    crc = crc32_z(crc, reinterpret_cast<const Bytef*>(buffer.data()), static_cast<std::size_t>(in.gcount()));
  }
  return crc;
}

}  // namespace

std::string checkpoint_name(std::int64_t step) {
  return fmt::format("step-{:08}", step);
}

std::string optimizer_shard_name(int rank, int ranks) {
  return fmt::format("optimizer.shard-{:05}-of-{:05}.safetensors", rank, ranks);
}

void write_checkpoint_state(const std::string& directory, const CheckpointState& state) {
  json crcs = json::object();
  for (const auto& entry : fs::directory_iterator(directory)) {
    if (entry.path().extension() == ".safetensors")
      crcs[entry.path().filename().string()] = file_crc(entry.path());
  }
  const json meta{{"step", state.step},
                  {"loader", {{"epoch", state.loader_epoch}, {"windows_taken", state.loader_windows_taken}}},
                  {"ranks", state.ranks},
                  {"crc32", crcs},
                  {"config", state.config_yaml}};
  std::ofstream out(fs::path(directory) / "state.json");
  out << meta.dump(2) << "\n";
  out.close();
  PRIMER_CHECK(out.good(), "{}: writing state.json failed (disk full?)", directory);
}

CheckpointState read_checkpoint_state(const std::string& checkpoint) {
  try {
    const json meta = json::parse(std::ifstream(fs::path(checkpoint) / "state.json"));
    CheckpointState state;
    state.step = meta.at("step").get<std::int64_t>();
    state.loader_epoch = meta.at("loader").at("epoch").get<std::uint64_t>();
    state.loader_windows_taken = meta.at("loader").at("windows_taken").get<std::uint64_t>();
    state.ranks = meta.value("ranks", 1);
    state.config_yaml = meta.at("config").get<std::string>();
    return state;
  } catch (const json::exception& error) {
    PRIMER_FAIL("{}/state.json: {}", checkpoint, error.what());
  }
}

std::string checkpoint_problem(const std::string& checkpoint) {
  try {
    std::ifstream in(fs::path(checkpoint) / "state.json");
    if (!in) return "no state.json";
    const json crcs = json::parse(in).at("crc32");
    if (!crcs.contains(kCheckpointWeights)) return std::string("no ") + kCheckpointWeights;
    bool has_optimizer_state = false;
    for (const auto& [file, crc] : crcs.items()) {
      if (!fs::exists(fs::path(checkpoint) / file)) return "no " + file;
      if (file_crc(fs::path(checkpoint) / file) != crc.get<std::uint64_t>()) {
        return file + " does not match its checksum";
      }
      has_optimizer_state = has_optimizer_state || is_optimizer_state(file);
    }
    return has_optimizer_state ? "" : std::string("no ") + kCheckpointOptimizer;
  } catch (const std::exception& error) {
    return std::string("unreadable state.json: ") + error.what();
  }
}

std::vector<std::string> optimizer_state_files(const std::string& checkpoint) {
  std::vector<std::string> files;
  try {
    const json crcs = json::parse(std::ifstream(fs::path(checkpoint) / "state.json")).at("crc32");
    for (const auto& [file, crc] : crcs.items()) {
      if (is_optimizer_state(file)) files.push_back((fs::path(checkpoint) / file).string());
    }
  } catch (const json::exception& error) {
    PRIMER_FAIL("{}/state.json: {}", checkpoint, error.what());
  }
  return files;
}

std::vector<std::string> checkpoints_newest_first(const std::string& checkpoints_directory) {
  std::vector<std::string> found;
  if (!fs::exists(checkpoints_directory)) return found;
  for (const auto& entry : fs::directory_iterator(checkpoints_directory)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_directory() && name.starts_with("step-") && name.find(".tmp") == std::string::npos) {
      found.push_back(entry.path().string());
    }
  }
  std::sort(found.rbegin(), found.rend());
  return found;
}

std::string resolve_checkpoint(const std::string& path) {
  PRIMER_CHECK(fs::exists(path), "{}: no such checkpoint or run directory", path);
  if (fs::exists(fs::path(path) / "state.json")) {
    const std::string problem = checkpoint_problem(path);
    PRIMER_CHECK(problem.empty(), "{}: {}", path, problem);
    return path;
  }
  const fs::path checkpoints = fs::path(path) / "checkpoints";
  PRIMER_CHECK(fs::exists(checkpoints),
               "{}: neither a checkpoint (no state.json) nor a run directory (no checkpoints/)", path);
  for (const std::string& checkpoint : checkpoints_newest_first(checkpoints.string())) {
    const std::string problem = checkpoint_problem(checkpoint);
    if (problem.empty()) return checkpoint;
    log().warn("skipping checkpoint {}: {}", checkpoint, problem);
  }
  PRIMER_FAIL("{}: no valid checkpoint in {}", path, checkpoints.string());
}

}  // namespace primer
