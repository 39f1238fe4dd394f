// The CPU backend's cache-resident products (src/backend/cpu/small_product.h): both f32 paths, the bf16
// pair path (with the packing that feeds it) and the f64 loops against a dense double-precision product,
// over shapes that leave every kind of row and column tail, each causal structure, a transposed left
// operand, accumulation, and padded rows of c that must not be written.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <functional>
#include <vector>

#include "backend/cpu/cpu_features.h"
#include "backend/cpu/small_product.h"

namespace primer::cpu {
namespace {

constexpr double kGuard = 12345.0;
constexpr std::int64_t kPadding = 3;  // columns of c past n in each row, and rows of a and b past the end

struct Case {
  std::int64_t m, n, k;
  Causal causal;
  std::int64_t diagonal;
  bool transposed_a, accumulate;
};

std::vector<Case> cases() {
  std::vector<Case> all;
  for (const std::int64_t m : {1, 5, 6, 7, 13, 64})
    for (const std::int64_t n : {1, 8, 15, 16, 17, 33, 64, 65, 100})
      for (const std::int64_t k : {0, 1, 7, 64})
        for (const Causal causal : {Causal::none, Causal::columns, Causal::upper_inner, Causal::lower_inner})
          for (const std::int64_t diagonal : {-2, 0, 9})
            all.push_back({m, n, k, causal, diagonal, (m + n + k) % 2 == 0, (m * n + k) % 3 == 0});
  return all;
}

// Whether the term a(i, p) is one the causal structure lets the product skip (the caller's a is zero there).
bool skipped_term(const Case& c, std::int64_t i, std::int64_t p) {
  return (c.causal == Causal::upper_inner && p > c.diagonal + i) ||
         (c.causal == Causal::lower_inner && p < i - c.diagonal);
}

bool needed(const Case& c, std::int64_t i, std::int64_t j) {
  return c.causal != Causal::columns || j <= c.diagonal + i;
}

// The bf16 pair path runs on operands rounded to bf16 first, so that the reference sees the values the
// products multiply.
template <class T>
void check(const std::function<void(const SmallProduct<T>&)>& multiply_path, double tolerance,
           bool bf16_operands = false) {
  for (const Case& c : cases()) {
    SCOPED_TRACE(::testing::Message() << "m " << c.m << " n " << c.n << " k " << c.k << " causal "
                                      << static_cast<int>(c.causal) << " diagonal " << c.diagonal
                                      << " transposed " << c.transposed_a << " accumulate " << c.accumulate);
    // a is stored [m, k] or, transposed, [k, m]; both with padding rows.
    const std::int64_t a_stride = (c.transposed_a ? c.m : c.k) + kPadding;
    std::vector<T> a(static_cast<std::size_t>((std::max(c.m, c.k) + kPadding) * a_stride), T(0));
    const auto a_at = [&](std::int64_t i, std::int64_t p) -> T& {
      return a[static_cast<std::size_t>(c.transposed_a ? p * a_stride + i : i * a_stride + p)];
    };
    for (std::int64_t i = 0; i < c.m; ++i)
      for (std::int64_t p = 0; p < c.k; ++p)
        a_at(i, p) = skipped_term(c, i, p) ? T(0) : static_cast<T>(std::sin(0.3 * i + 0.7 * p + 0.1));
    const std::int64_t b_stride = c.n + kPadding, c_stride = c.n + kPadding;
    std::vector<T> b(static_cast<std::size_t>((c.k + kPadding) * b_stride));
    for (std::size_t e = 0; e < b.size(); ++e) b[e] = static_cast<T>(std::cos(0.37 * static_cast<double>(e)));
    if (bf16_operands) {
      for (T& x : a) x = static_cast<T>(static_cast<float>(bfloat16(static_cast<float>(x))));
      for (T& x : b) x = static_cast<T>(static_cast<float>(bfloat16(static_cast<float>(x))));
    }
    std::vector<T> out(static_cast<std::size_t>(c.m * c_stride + kPadding), static_cast<T>(kGuard));
    for (std::int64_t i = 0; i < c.m; ++i)
      for (std::int64_t j = 0; j < c.n; ++j)
        out[static_cast<std::size_t>(i * c_stride + j)] = static_cast<T>(0.5 * j - i);
    const std::vector<T> before = out;

    multiply_path({.m = c.m,
                   .n = c.n,
                   .k = c.k,
                   .a = a.data(),
                   .a_row_stride = c.transposed_a ? 1 : a_stride,
                   .a_column_stride = c.transposed_a ? a_stride : 1,
                   .b = b.data(),
                   .b_row_stride = b_stride,
                   .c = out.data(),
                   .c_row_stride = c_stride,
                   .accumulate = c.accumulate,
                   .causal = c.causal,
                   .diagonal = c.diagonal});

    for (std::int64_t i = 0; i < c.m; ++i) {
      for (std::int64_t j = 0; j < c_stride; ++j) {
        const std::size_t at = static_cast<std::size_t>(i * c_stride + j);
        if (j >= c.n) {
          ASSERT_EQ(out[at], static_cast<T>(kGuard)) << "written past n at row " << i << " column " << j;
          continue;
        }
        if (!needed(c, i, j)) continue;
        double expected = c.accumulate ? static_cast<double>(before[at]) : 0.0,
               magnitude = std::abs(expected);
        for (std::int64_t p = 0; p < c.k; ++p) {
          const double term = static_cast<double>(a_at(i, p)) *
                              static_cast<double>(b[static_cast<std::size_t>(p * b_stride + j)]);
          expected += term;
          magnitude += std::abs(term);
        }
        ASSERT_NEAR(out[at], expected, tolerance * (1.0 + magnitude)) << "row " << i << " column " << j;
      }
    }
    ASSERT_EQ(out.back(), static_cast<T>(kGuard)) << "written past the last row";
  }
}

TEST(SmallProduct, Avx2MatchesADenseProduct) {
  check<float>(small_product_paths::multiply_avx2, 1e-6);
}

TEST(SmallProduct, Avx512MatchesADenseProduct) {
  if (!avx512_available()) GTEST_SKIP() << "this CPU has no AVX-512";
  check<float>(small_product_paths::multiply_avx512, 1e-6);
}

// The f32 operands packed into pairs as the attention packs them: a along its rows, or across them when
// it is given transposed; b across its rows, or (for odd k) along the rows of its transpose and then
// transpose_pairs, the keys' path. Rounding is exact (the operands are bf16 values), so only the f32 sums
// differ from the reference.
void multiply_in_bf16_pairs(const SmallProduct<float>& p) {
  const bool a_transposed = p.a_row_stride == 1;
  const std::int64_t pairs = (p.k + 1) / 2;
  std::vector<bfloat16> a, b;
  PairedBf16Product paired{.m = p.m,
                           .n = p.n,
                           .k = p.k,
                           .a = nullptr,
                           .a_row_stride = 0,
                           .a_column_stride = 0,
                           .b = nullptr,
                           .b_row_stride = 0,
                           .c = p.c,
                           .c_row_stride = p.c_row_stride,
                           .accumulate = p.accumulate,
                           .causal = p.causal,
                           .diagonal = p.diagonal};
  if (a_transposed) {  // a given as [k, m]: pairs across its rows, row q holding (a(i, 2q), a(i, 2q + 1))
    const std::int64_t stride = 2 * p.m + 2;
    a.assign(static_cast<std::size_t>(std::max<std::int64_t>(pairs, 1) * stride), bfloat16(7.0f));
    pack_pairs_across_rows(p.a, p.k, p.m, p.a_column_stride, a.data(), stride);
    paired.a_row_stride = 2;
    paired.a_column_stride = stride;
  } else {
    const std::int64_t stride = 2 * pairs + 4;
    a.assign(static_cast<std::size_t>(p.m * stride), bfloat16(7.0f));
    pack_pairs_along_rows(p.a, p.m, p.k, p.a_row_stride, a.data(), stride);
    paired.a_row_stride = stride;
    paired.a_column_stride = 2;
  }
  const std::int64_t b_stride = 2 * p.n + 6;
  b.assign(static_cast<std::size_t>(std::max<std::int64_t>(pairs, 1) * b_stride), bfloat16(7.0f));
  if (p.k % 2 != 0) {
    std::vector<float> transposed(static_cast<std::size_t>(p.n * p.k));
    for (std::int64_t q = 0; q < p.k; ++q)
      for (std::int64_t j = 0; j < p.n; ++j)
        transposed[static_cast<std::size_t>(j * p.k + q)] = p.b[q * p.b_row_stride + j];
    const std::int64_t packed_stride = 2 * pairs + 2;
    std::vector<bfloat16> packed(static_cast<std::size_t>(p.n * packed_stride));
    pack_pairs_along_rows(transposed.data(), p.n, p.k, p.k, packed.data(), packed_stride);
    transpose_pairs(packed.data(), p.n, pairs, packed_stride, b.data(), b_stride);
  } else {
    pack_pairs_across_rows(p.b, p.k, p.n, p.b_row_stride, b.data(), b_stride);
  }
  paired.a = a.data();
  paired.b = b.data();
  paired.b_row_stride = b_stride;
  multiply(paired);
}

TEST(SmallProduct, Bf16PairsMatchADenseProduct) {
  if (!avx512_bf16_available()) GTEST_SKIP() << "this CPU has no AVX512-BF16";
  check<float>(multiply_in_bf16_pairs, 1e-6, true);
}

TEST(SmallProduct, DoubleLoopsMatchADenseProduct) {
  check<double>([](const SmallProduct<double>& p) { multiply(p); }, 1e-14);
}

}  // namespace
}  // namespace primer::cpu
