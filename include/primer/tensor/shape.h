#pragma once
// Shapes and strides are small vectors of int64 in elements, row-major by default.
#include <cstdint>
#include <string>
#include <vector>

namespace primer {

using Shape = std::vector<std::int64_t>;
using Strides = std::vector<std::int64_t>;

std::int64_t numel(const Shape& shape);
Strides contiguous_strides(const Shape& shape);
std::string to_string(const Shape& shape);

}  // namespace primer
