#pragma once
// Products of small f32 matrices that stay in cache (attention's blocks of one head: K = 64, a few hundred
// rows), through register-tiled kernels: 6 rows x 64 columns with AVX-512, 6 x 16 with AVX2, the wider
// picked once at run time. The left operand takes any strides, so a transposed view costs no copy, and a
// causal structure skips the products a triangular mask zeroes. oneDNN's batched matmul over strided head
// views ran these shapes at about half the machine's GEMM rate and computed the masked triangle.
#include <cstdint>

#include "primer/tensor/bfloat16.h"

namespace primer::cpu {

// The causal structure of c[i, j] (+)= sum_p a(i, p) b[p, j], for a mask that is lower triangular with
// the diagonal at `diagonal`:
//   columns:     only c[i, j] with j <= diagonal + i is needed (a query's scores, over the keys it sees);
//                the others may be left unwritten or written;
//   upper_inner: a(i, p) is zero for p > diagonal + i (probabilities times values);
//   lower_inner: a(i, p) is zero for p < i - diagonal (transposed probabilities times query rows).
enum class Causal { none, columns, upper_inner, lower_inner };

// The kernels work in tiles of rows, so a causal product reads a(i, p) up to this many places past row
// i's triangle (upper_inner: p up to diagonal + i + this; lower_inner: i up to p + diagonal + this): those
// entries must be zero too.
constexpr std::int64_t kCausalOverreach = 5;

template <class T>
struct SmallProduct {
  std::int64_t m, n, k;
  const T* a;  // a(i, p) = a[i * a_row_stride + p * a_column_stride]
  std::int64_t a_row_stride, a_column_stride;
  const T* b;  // b[p, j] = b[p * b_row_stride + j]
  std::int64_t b_row_stride;
  T* c;  // c[i, j] = c[i * c_row_stride + j]
  std::int64_t c_row_stride;
  bool accumulate = false;  // c += a b rather than c = a b
  Causal causal = Causal::none;
  std::int64_t diagonal = 0;
};

void multiply(const SmallProduct<float>& product);
// f64, the gradient checks' type: plain loops over exactly the needed terms.
void multiply(const SmallProduct<double>& product);

// out[e, j] = in[j, e] for j < rows, e < columns; rows of `in` are in_stride apart, of `out` out_stride.
// Puts an operand in the layout the products read contiguously (a head's keys as [D, Tk]); f32 goes
// through 8 x 8 register transposes.
void transpose(const float* in, std::int64_t rows, std::int64_t columns, std::int64_t in_stride, float* out,
               std::int64_t out_stride);
void transpose(const double* in, std::int64_t rows, std::int64_t columns, std::int64_t in_stride, double* out,
               std::int64_t out_stride);

// The same products with bf16 operands, accumulated in f32: the form of AVX512-BF16's dot product
// (vdpbf16ps), which takes two inner steps of 16 columns an instruction where an f32 FMA takes one; CPUs
// with avx512_bf16_available() (cpu_features.h) only. The operands come in pairs
// along the inner dimension, the two bf16 of a pair side by side: a(i, 2q), a(i, 2q + 1) at
// a[i * a_row_stride + q * a_column_stride] (strides in bf16 elements; a_column_stride steps from pair to
// pair), and b[2q, j], b[2q + 1, j] at b[q * b_row_stride + 2j]. An odd k has its last pair completed by
// zeros in both. The causal structure is as in SmallProduct, in elements; a causal product reads whole
// pairs, so one element further than kCausalOverreach: those entries must be zero too.
struct PairedBf16Product {
  std::int64_t m, n, k;
  const bfloat16* a;
  std::int64_t a_row_stride, a_column_stride;
  const bfloat16* b;
  std::int64_t b_row_stride;
  float* c;
  std::int64_t c_row_stride;
  bool accumulate = false;
  Causal causal = Causal::none;
  std::int64_t diagonal = 0;
};

void multiply(const PairedBf16Product& product);

// f32 into the paired layouts, on the same CPUs: rounded to nearest even as bfloat16's
// constructor rounds, but subnormals flushed to zero (AVX512-BF16's conversion):
//   along rows:  row i's `columns` elements as pairs (an odd last one paired with zero), out rows out_stride
//                elements apart: a left operand, or with transpose_pairs a right operand given transposed;
//   across rows: rows 2q and 2q + 1 paired column by column into out's row q (an odd last row paired with
//                zero), out rows out_stride elements apart: a right operand, or a left operand transposed
//                (a(i, q) = out[q * out_stride + 2i]).
void pack_pairs_along_rows(const float* in, std::int64_t rows, std::int64_t columns, std::int64_t in_stride,
                           bfloat16* out, std::int64_t out_stride);
void pack_pairs_across_rows(const float* in, std::int64_t rows, std::int64_t columns, std::int64_t in_stride,
                            bfloat16* out, std::int64_t out_stride);
// transpose() with a pair as the element: out's pair (e, j) = in's pair (j, e) for j < rows, e < pairs;
// strides in bf16 elements.
void transpose_pairs(const bfloat16* in, std::int64_t rows, std::int64_t pairs, std::int64_t in_stride,
                     bfloat16* out, std::int64_t out_stride);

// Both f32 paths, for the tests to compare on a CPU that can run them; multiply picks one.
namespace small_product_paths {
void multiply_avx2(const SmallProduct<float>& product);
void multiply_avx512(const SmallProduct<float>& product);
}  // namespace small_product_paths

}  // namespace primer::cpu
