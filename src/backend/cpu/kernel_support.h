#pragma once
// Helpers shared by the CPU kernels: dtype dispatch, operand checks and a column reduction.
#include <omp.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <initializer_list>
#include <type_traits>

#include "primer/backend/stats_dtype.h"
#include "primer/core/error.h"
#include "primer/tensor/tensor.h"

namespace primer::cpu {

// Calls body(T{}) with T the C++ type of dtype.
template <class Body>
void dispatch_any(DType dtype, Body&& body) {
  switch (dtype) {
    case DType::f32: return body(float{});
    case DType::f64: return body(double{});
    case DType::bf16: return body(bfloat16{});
    case DType::i32: return body(std::int32_t{});
  }
}

// Calls body(T{}) with T the C++ type of a floating dtype; bf16 kernels compute in float.
template <class Body>
void dispatch_floating(DType dtype, const char* op, Body&& body) {
  PRIMER_CHECK(is_floating(dtype), "{}: dtype {} is not a floating type", op, dtype_name(dtype));
  dispatch_any(dtype, [&](auto tag) {
    if constexpr (!std::is_same_v<decltype(tag), std::int32_t>) body(tag);
  });
}

// The C++ type of stats_dtype(dtype_of<T>()): saved statistics (mean, rstd, lse) for inputs of type T.
template <class T>
using stats_type = std::conditional_t<std::is_same_v<T, double>, double, float>;

// Every operand: defined, contiguous, on the CPU, of the given dtype.
inline void check_operand(const Tensor& tensor, DType dtype, const char* op, const char* name) {
  PRIMER_CHECK(tensor.defined(), "{}: {} is undefined", op, name);
  PRIMER_CHECK(tensor.device() == Device::cpu(), "{}: {} is {}, not a CPU tensor", op, name,
               tensor.describe());
  PRIMER_CHECK(tensor.dtype() == dtype, "{}: {} is {}, expected {}", op, name, tensor.describe(),
               dtype_name(dtype));
  PRIMER_CHECK(tensor.is_contiguous(), "{}: {} ({}) must be contiguous", op, name, tensor.describe());
}

// Last dimension of x: the row length of the [rows, C] view every row-wise kernel takes.
inline std::int64_t row_length(const Tensor& x) {
  return x.dim() == 0 ? 1 : x.size(-1);
}

// out[c] = sum over rows n of term(n, c), accumulated in double: column blocks in parallel, each
// summing rows in order, so the result does not depend on the thread count.
template <class Out, class Term>
void column_reduce(std::int64_t rows, std::int64_t columns, Out* out, Term&& term) {
  constexpr std::int64_t block = 32;
  const std::int64_t blocks = (columns + block - 1) / block;
#pragma omp parallel for schedule(static)
  for (std::int64_t b = 0; b < blocks; ++b) {
    const std::int64_t begin = b * block;
    const std::int64_t width = std::min(block, columns - begin);
    std::array<double, block> accumulators{};
    for (std::int64_t n = 0; n < rows; ++n) {
      for (std::int64_t j = 0; j < width; ++j) accumulators[j] += static_cast<double>(term(n, begin + j));
    }
    for (std::int64_t j = 0; j < width; ++j) out[begin + j] = static_cast<Out>(accumulators[j]);
  }
}

}  // namespace primer::cpu

namespace primer::cpu {

// check_operand for each defined tensor in the list (undefined ones are optional operands).
inline void check_operands(std::initializer_list<const Tensor*> tensors, DType dtype, const char* op) {
  for (const Tensor* tensor : tensors) {
    if (tensor->defined()) check_operand(*tensor, dtype, op, tensor->describe().c_str());
  }
}

}  // namespace primer::cpu
