#pragma once
// safetensors, the weight format of PyTorch and Hugging Face: an 8-byte little-endian header length, a
// JSON header {name: {dtype, shape, data_offsets}, "__metadata__": {...}}, then the raw data.
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "primer/tensor/tensor.h"

namespace primer {

// Writes to a temporary name, then renames: a failed write never leaves a partial file at `path`.
void save_safetensors(const std::string& path, const std::vector<std::pair<std::string, Tensor>>& tensors,
                      const std::map<std::string, std::string>& metadata = {});
// CPU tensors by name. A missing, truncated or malformed file is an error naming it (and the tensor).
std::map<std::string, Tensor> load_safetensors(const std::string& path);

}  // namespace primer
