#include "primer/train/checkpoint.h"

#include <fmt/format.h>
#include <unistd.h>
#include <zlib.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "primer/core/logging.h"
#include "primer/io/safetensors.h"

namespace primer::train {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kFiles[] = {"model.safetensors", "optimizer.safetensors"};

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

std::vector<fs::path> checkpoints_newest_first(const fs::path& directory) {
  std::vector<fs::path> found;
  if (!fs::exists(directory)) return found;
  for (const auto& entry : fs::directory_iterator(directory)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_directory() && name.starts_with("step-") && name.find(".tmp") == std::string::npos) {
      found.push_back(entry.path());
    }
  }
  std::sort(found.rbegin(), found.rend());
  return found;
}

// Why a checkpoint cannot be used, or empty when it can.
std::string problem_with(const fs::path& checkpoint) {
  try {
    std::ifstream in(checkpoint / "state.json");
    if (!in) return "no state.json";
    const json state = json::parse(in);
    for (const char* file : kFiles) {
      if (!fs::exists(checkpoint / file)) return std::string("no ") + file;
      if (file_crc(checkpoint / file) != state.at("crc32").at(file).get<std::uint64_t>()) {
        return std::string(file) + " does not match its checksum";
      }
    }
    return "";
  } catch (const std::exception& error) {
    return std::string("unreadable state.json: ") + error.what();
  }
}

}  // namespace

CheckpointStore::CheckpointStore(std::string run_directory, std::int64_t keep)
    : directory_(std::move(run_directory) + "/checkpoints"), keep_(keep) {}

std::string CheckpointStore::save(const LanguageModel& model, const Optimizer& optimizer,
                                  const TrainingState& state, const std::string& config_yaml) const {
  const fs::path final_path = fs::path(directory_) / fmt::format("step-{:08}", state.step);
  const fs::path temporary = fs::path(directory_) / fmt::format("step-{:08}.tmp.{}", state.step, ::getpid());
  fs::create_directories(temporary);
  try {
    model.save_weights((temporary / "model.safetensors").string());
    save_safetensors((temporary / "optimizer.safetensors").string(), optimizer.state());
    json crcs;
    for (const char* file : kFiles) crcs[file] = file_crc(temporary / file);
    const json meta{
        {"step", state.step},
        {"loader", {{"epoch", state.loader.epoch}, {"windows_taken", state.loader.windows_taken}}},
        {"crc32", crcs},
        {"config", config_yaml}};
    std::ofstream out(temporary / "state.json");
    out << meta.dump(2) << "\n";
    out.close();
    PRIMER_CHECK(out.good(), "{}: writing state.json failed (disk full?)", temporary.string());
    if (fs::exists(final_path)) fs::remove_all(final_path);
    fs::rename(temporary, final_path);
  } catch (...) {
    std::error_code ignored;
    fs::remove_all(temporary, ignored);
    throw;
  }
  const std::vector<fs::path> all = checkpoints_newest_first(directory_);
  for (std::size_t i = static_cast<std::size_t>(keep_); i < all.size(); ++i) fs::remove_all(all[i]);
  return final_path.string();
}

std::optional<std::string> CheckpointStore::latest_valid() const {
  for (const fs::path& checkpoint : checkpoints_newest_first(directory_)) {
    const std::string problem = problem_with(checkpoint);
    if (problem.empty()) return checkpoint.string();
    log().warn("skipping checkpoint {}: {}", checkpoint.string(), problem);
  }
  return std::nullopt;
}

TrainingState CheckpointStore::load(const std::string& checkpoint, LanguageModel& model,
                                    Optimizer& optimizer) {
  load_weights(checkpoint, model);
  try {
    optimizer.load_state(load_safetensors(checkpoint + "/optimizer.safetensors"));
  } catch (const Error& error) {
    PRIMER_FAIL("{}/optimizer.safetensors: {}", checkpoint, error.what());
  }
  const json meta = json::parse(std::ifstream(checkpoint + "/state.json"));
  TrainingState state;
  state.step = meta.at("step").get<std::int64_t>();
  state.loader.epoch = meta.at("loader").at("epoch").get<std::uint64_t>();
  state.loader.windows_taken = meta.at("loader").at("windows_taken").get<std::uint64_t>();
  return state;
}

std::string CheckpointStore::resolve(const std::string& path) {
  PRIMER_CHECK(fs::exists(path), "{}: no such checkpoint or run directory", path);
  if (fs::exists(fs::path(path) / "state.json")) {
    const std::string problem = problem_with(path);
    PRIMER_CHECK(problem.empty(), "{}: {}", path, problem);
    return path;
  }
  PRIMER_CHECK(fs::exists(fs::path(path) / "checkpoints"),
               "{}: neither a checkpoint (no state.json) nor a run directory (no checkpoints/)", path);
  const std::optional<std::string> latest = CheckpointStore(path, 0).latest_valid();
  PRIMER_CHECK(latest.has_value(), "{}: no valid checkpoint in {}/checkpoints", path, path);
  return *latest;
}

std::string CheckpointStore::saved_config(const std::string& checkpoint) {
  try {
    return json::parse(std::ifstream(checkpoint + "/state.json")).at("config").get<std::string>();
  } catch (const json::exception& error) {
    PRIMER_FAIL("{}/state.json: no saved config: {}", checkpoint, error.what());
  }
}

void CheckpointStore::load_weights(const std::string& checkpoint, LanguageModel& model) {
  const std::string problem = problem_with(checkpoint);
  PRIMER_CHECK(problem.empty(), "{}: {}", checkpoint, problem);
  model.load_weights(checkpoint + "/model.safetensors");
}

}  // namespace primer::train
