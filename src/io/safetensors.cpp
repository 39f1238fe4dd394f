#include "primer/io/safetensors.h"

#include <unistd.h>
#include <nlohmann/json.hpp>

#include <cstring>
#include <filesystem>
#include <fstream>

namespace primer {
namespace {

using nlohmann::json;

const std::map<DType, std::string> kNames{
    {DType::f32, "F32"}, {DType::f64, "F64"}, {DType::bf16, "BF16"}, {DType::i32, "I32"}};

DType dtype_named(const std::string& name, const std::string& path, const std::string& tensor) {
  for (const auto& [dtype, candidate] : kNames) {
    if (candidate == name) return dtype;
  }
  PRIMER_FAIL("{}: tensor '{}' has unsupported dtype {}", path, tensor, name);
}

}  // namespace

void save_safetensors(const std::string& path, const std::vector<std::pair<std::string, Tensor>>& tensors,
                      const std::map<std::string, std::string>& metadata) {
  json header = json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::vector<Tensor> contiguous;
  std::uint64_t offset = 0;
  for (const auto& [name, tensor] : tensors) {
    PRIMER_CHECK(!header.contains(name), "{}: tensor name '{}' appears twice", path, name);
    const Tensor host = tensor.to(Device::cpu()).contiguous();
    const auto bytes = static_cast<std::uint64_t>(host.numel()) * dtype_size(host.dtype());
    header[name] = {{"dtype", kNames.at(host.dtype())},
                    {"shape", host.shape()},
                    {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
    contiguous.push_back(host);
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');  // data starts 8-byte aligned, as the reference writer does
  const std::uint64_t length = text.size();

  const std::string temporary = path + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    PRIMER_CHECK(out.good(), "{}: cannot open for writing", temporary);
    out.write(reinterpret_cast<const char*>(&length), sizeof(length));
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    for (const Tensor& tensor : contiguous) {
      out.write(static_cast<const char*>(tensor.data_ptr()),
                static_cast<std::streamsize>(tensor.numel() *
                                             static_cast<std::int64_t>(dtype_size(tensor.dtype()))));
    }
    out.flush();
    if (!out.good()) {
      out.close();
      std::filesystem::remove(temporary);
      PRIMER_FAIL("{}: write failed (disk full?); the previous file, if any, is untouched", path);
    }
  }
  std::filesystem::rename(temporary, path);
}

std::map<std::string, Tensor> load_safetensors(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  PRIMER_CHECK(in.good(), "{}: cannot open ({})", path,
               std::filesystem::exists(path) ? "unreadable" : "no such file");
  const auto file_size = static_cast<std::uint64_t>(std::filesystem::file_size(path));
  std::uint64_t length = 0;
  PRIMER_CHECK(file_size >= 8 && in.read(reinterpret_cast<char*>(&length), sizeof(length)),
               "{}: too short to be a safetensors file ({} bytes)", path, file_size);
  PRIMER_CHECK(length <= file_size - 8,
               "{}: header length {} runs past the end of the file ({} bytes): truncated?", path, length,
               file_size);
  std::string text(length, '\0');
  in.read(text.data(), static_cast<std::streamsize>(length));
  json header;
  try {
    header = json::parse(text);
  } catch (const json::exception& error) {
    PRIMER_FAIL("{}: malformed safetensors header: {}", path, error.what());
  }
  PRIMER_CHECK(header.is_object(), "{}: the safetensors header is not a JSON object", path);
  const std::uint64_t data_size = file_size - 8 - length;
  const std::uint64_t data_start = 8 + length;

  std::map<std::string, Tensor> tensors;
  for (const auto& [name, entry] : header.items()) {
    if (name == "__metadata__") continue;
    try {
      const DType dtype = dtype_named(entry.at("dtype").get<std::string>(), path, name);
      const Shape shape = entry.at("shape").get<Shape>();
      const auto offsets = entry.at("data_offsets").get<std::vector<std::uint64_t>>();
      PRIMER_CHECK(offsets.size() == 2 && offsets[0] <= offsets[1] && offsets[1] <= data_size,
                   "{}: tensor '{}' lies outside the file's {} data bytes: truncated?", path, name,
                   data_size);
      const auto expected = static_cast<std::uint64_t>(numel(shape)) * dtype_size(dtype);
      PRIMER_CHECK(offsets[1] - offsets[0] == expected, "{}: tensor '{}' has {} bytes, its shape {} needs {}",
                   path, name, offsets[1] - offsets[0], to_string(shape), expected);
      Tensor tensor = Tensor::empty(shape, dtype);
      in.seekg(static_cast<std::streamoff>(data_start + offsets[0]));
      in.read(static_cast<char*>(tensor.data_ptr()), static_cast<std::streamsize>(expected));
      PRIMER_CHECK(in.good(), "{}: reading tensor '{}' failed", path, name);
      tensors.emplace(name, tensor);
    } catch (const json::exception& error) {
      PRIMER_FAIL("{}: malformed header entry for '{}': {}", path, name, error.what());
    }
  }
  return tensors;
}

}  // namespace primer
