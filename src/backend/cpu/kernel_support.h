#pragma once
// Helpers shared by the CPU kernels: dtype dispatch, operand checks and a column reduction.
#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <type_traits>
#include <vector>

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

// Column sums over rows without a dependence on the thread count: rows go in fixed chunks of
// kColumnSumChunkRows, spread over the threads; body(begin, end, sums) handles rows [begin, end) (a row
// pass can do its other work there, while the rows are in cache) and adds its terms into sums (`columns`
// doubles, zeroed); the chunks' sums are then added in chunk order into totals.
constexpr std::int64_t kColumnSumChunkRows = 64;

template <class Body>
void column_sums_by_row_chunks(std::int64_t rows, std::int64_t columns, double* totals, Body&& body) {
  const std::int64_t chunks = (rows + kColumnSumChunkRows - 1) / kColumnSumChunkRows;
  std::vector<double> sums(static_cast<std::size_t>(chunks * columns), 0.0);
#pragma omp parallel for schedule(static)
  for (std::int64_t chunk = 0; chunk < chunks; ++chunk) {
    const std::int64_t begin = chunk * kColumnSumChunkRows;
    body(begin, std::min(rows, begin + kColumnSumChunkRows), sums.data() + chunk * columns);
  }
#pragma omp parallel for schedule(static)
  for (std::int64_t c = 0; c < columns; ++c) {
    double total = 0.0;
    for (std::int64_t chunk = 0; chunk < chunks; ++chunk)
      total += sums[static_cast<std::size_t>(chunk * columns + c)];
    totals[c] = total;
  }
}

// out[c] = sum over rows n of term(n, c), accumulated in double, independent of the thread count.
template <class Out, class Term>
void column_reduce(std::int64_t rows, std::int64_t columns, Out* out, Term&& term) {
  std::vector<double> totals(static_cast<std::size_t>(columns));
  column_sums_by_row_chunks(rows, columns, totals.data(),
                            [&](std::int64_t begin, std::int64_t end, double* sums) {
                              for (std::int64_t n = begin; n < end; ++n) {
#pragma omp simd
                                for (std::int64_t c = 0; c < columns; ++c)
                                  sums[c] += static_cast<double>(term(n, c));
                              }
                            });
  for (std::int64_t c = 0; c < columns; ++c) out[c] = static_cast<Out>(totals[static_cast<std::size_t>(c)]);
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
