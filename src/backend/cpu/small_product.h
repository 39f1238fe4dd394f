#pragma once
// Products of small f32 matrices that stay in cache (attention's blocks of one head: K = 64, a few hundred
// rows), through register-tiled kernels: 6 rows x 64 columns with AVX-512, 6 x 16 with AVX2, the wider
// picked once at run time. The left operand takes any strides, so a transposed view costs no copy, and a
// causal structure skips the products a triangular mask zeroes. oneDNN's batched matmul over strided head
// views ran these shapes at about half the machine's GEMM rate and computed the masked triangle.
#include <cstdint>

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

// Both f32 paths, for the tests to compare on a CPU that can run them; multiply picks one.
namespace small_product_paths {
void multiply_avx2(const SmallProduct<float>& product);
void multiply_avx512(const SmallProduct<float>& product);
}  // namespace small_product_paths

}  // namespace primer::cpu
