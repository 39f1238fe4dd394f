#include "backend/cpu/small_product.h"

#include <immintrin.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <utility>

#include "backend/cpu/cpu_features.h"
#include "primer/core/error.h"

namespace primer::cpu {
namespace {

// Six rows of c a tile: 6 x 4 AVX-512 accumulators (or 6 x 2 AVX2 ones) leave registers for the row of b
// and the broadcast, and six left-operand addresses fit the general registers without spilling.
constexpr int kTileRows = 6;
static_assert(kCausalOverreach == kTileRows - 1);

// One tile of c: rows [0, Rows), Vectors vectors of columns, the last with `last_lanes` live lanes, over
// `steps` inner steps (one element of the inner dimension in f32, a pair in bf16). a points at the tile's
// first step of its row 0, b at its first step of column 0, c at c[0, 0].
template <class Operand>
using TileKernel = void (*)(const Operand* a, std::int64_t a_row_stride, std::int64_t a_column_stride,
                            const Operand* b, std::int64_t b_row_stride, float* c, std::int64_t c_row_stride,
                            std::int64_t steps, int last_lanes, bool accumulate);

// An AVX-512 tile's accumulators: from c's tile (accumulate) or zero, and back to it; the last vector of
// each row has `last` live lanes.
template <int Rows, int Vectors>
__attribute__((target("avx512f"), always_inline)) inline void start_tile(__m512 (&acc)[Rows][Vectors],
                                                                         const float* c,
                                                                         std::int64_t c_row_stride,
                                                                         __mmask16 last, bool accumulate) {
#pragma GCC unroll 8
  for (int r = 0; r < Rows; ++r) {
#pragma GCC unroll 4
    for (int v = 0; v < Vectors; ++v) {
      acc[r][v] = accumulate
                      ? _mm512_maskz_loadu_ps(v == Vectors - 1 ? last : 0xffff, c + r * c_row_stride + 16 * v)
                      : _mm512_setzero_ps();
    }
  }
}

template <int Rows, int Vectors>
__attribute__((target("avx512f"), always_inline)) inline void store_tile(const __m512 (&acc)[Rows][Vectors],
                                                                         float* c, std::int64_t c_row_stride,
                                                                         __mmask16 last) {
#pragma GCC unroll 8
  for (int r = 0; r < Rows; ++r) {
#pragma GCC unroll 4
    for (int v = 0; v < Vectors; ++v)
      _mm512_mask_storeu_ps(c + r * c_row_stride + 16 * v, v == Vectors - 1 ? last : 0xffff, acc[r][v]);
  }
}

template <int Rows, int Vectors>
__attribute__((target("avx512f"))) void tile_avx512(const float* a, std::int64_t a_row_stride,
                                                    std::int64_t a_column_stride, const float* b,
                                                    std::int64_t b_row_stride, float* c,
                                                    std::int64_t c_row_stride, std::int64_t steps,
                                                    int last_lanes, bool accumulate) {
  const __mmask16 last = static_cast<__mmask16>((1u << last_lanes) - 1);
  __m512 acc[Rows][Vectors];
  start_tile(acc, c, c_row_stride, last, accumulate);
  for (std::int64_t p = 0; p < steps; ++p, a += a_column_stride, b += b_row_stride) {
    __m512 row[Vectors];
#pragma GCC unroll 4
    for (int v = 0; v < Vectors - 1; ++v) row[v] = _mm512_loadu_ps(b + 16 * v);
    row[Vectors - 1] = _mm512_maskz_loadu_ps(last, b + 16 * (Vectors - 1));
#pragma GCC unroll 8
    for (int r = 0; r < Rows; ++r) {
      const __m512 broadcast = _mm512_set1_ps(a[r * a_row_stride]);
#pragma GCC unroll 4
      for (int v = 0; v < Vectors; ++v) acc[r][v] = _mm512_fmadd_ps(broadcast, row[v], acc[r][v]);
    }
  }
  store_tile(acc, c, c_row_stride, last);
}

template <int Rows, int Vectors>
__attribute__((target("avx2,fma"))) void tile_avx2(const float* a, std::int64_t a_row_stride,
                                                   std::int64_t a_column_stride, const float* b,
                                                   std::int64_t b_row_stride, float* c,
                                                   std::int64_t c_row_stride, std::int64_t steps,
                                                   int last_lanes, bool accumulate) {
  const __m256i last =
      _mm256_cmpgt_epi32(_mm256_set1_epi32(last_lanes), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  const __m256i full = _mm256_set1_epi32(-1);
  __m256 acc[Rows][Vectors];
#pragma GCC unroll 8
  for (int r = 0; r < Rows; ++r) {
#pragma GCC unroll 4
    for (int v = 0; v < Vectors; ++v) {
      acc[r][v] = accumulate
                      ? _mm256_maskload_ps(c + r * c_row_stride + 8 * v, v == Vectors - 1 ? last : full)
                      : _mm256_setzero_ps();
    }
  }
  for (std::int64_t p = 0; p < steps; ++p, a += a_column_stride, b += b_row_stride) {
    __m256 row[Vectors];
#pragma GCC unroll 4
    for (int v = 0; v < Vectors - 1; ++v) row[v] = _mm256_loadu_ps(b + 8 * v);
    row[Vectors - 1] = _mm256_maskload_ps(b + 8 * (Vectors - 1), last);
#pragma GCC unroll 8
    for (int r = 0; r < Rows; ++r) {
      const __m256 broadcast = _mm256_broadcast_ss(a + r * a_row_stride);
#pragma GCC unroll 4
      for (int v = 0; v < Vectors; ++v) acc[r][v] = _mm256_fmadd_ps(broadcast, row[v], acc[r][v]);
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < Rows; ++r) {
#pragma GCC unroll 4
    for (int v = 0; v < Vectors; ++v)
      _mm256_maskstore_ps(c + r * c_row_stride + 8 * v, v == Vectors - 1 ? last : full, acc[r][v]);
  }
}

// A pair of bf16 as one 32-bit lane, to broadcast.
int pair_bits(const bfloat16* pair) {
  std::uint32_t bits;
  std::memcpy(&bits, pair, sizeof bits);
  return static_cast<int>(bits);
}

template <int Rows, int Vectors>
__attribute__((target("avx512f,avx512bf16"))) void tile_avx512_bf16(
    const bfloat16* a, std::int64_t a_row_stride, std::int64_t a_column_stride, const bfloat16* b,
    std::int64_t b_row_stride, float* c, std::int64_t c_row_stride, std::int64_t steps, int last_lanes,
    bool accumulate) {
  const __mmask16 last = static_cast<__mmask16>((1u << last_lanes) - 1);
  __m512 acc[Rows][Vectors];
  start_tile(acc, c, c_row_stride, last, accumulate);
  for (std::int64_t p = 0; p < steps; ++p, a += a_column_stride, b += b_row_stride) {
    __m512bh row[Vectors];
#pragma GCC unroll 4
    for (int v = 0; v < Vectors - 1; ++v) row[v] = (__m512bh)_mm512_loadu_si512(b + 32 * v);
    row[Vectors - 1] = (__m512bh)_mm512_maskz_loadu_epi32(last, b + 32 * (Vectors - 1));
#pragma GCC unroll 8
    for (int r = 0; r < Rows; ++r) {
      const __m512bh broadcast = (__m512bh)_mm512_set1_epi32(pair_bits(a + r * a_row_stride));
#pragma GCC unroll 4
      for (int v = 0; v < Vectors; ++v) acc[r][v] = _mm512_dpbf16_ps(acc[r][v], broadcast, row[v]);
    }
  }
  store_tile(acc, c, c_row_stride, last);
}

// A vector width's tile kernels, indexed [rows - 1][vectors - 1], whose steps take Grain elements of the
// inner dimension (1 in f32, 2 for bf16 pairs).
template <class Operand, int Lanes, int MaxVectors, int Grain>
struct TileKernels {
  std::array<std::array<TileKernel<Operand>, MaxVectors>, kTileRows> kernels;
};

template <template <int, int> class Kernel, class Operand, int Lanes, int MaxVectors, int Grain, int... Index>
constexpr TileKernels<Operand, Lanes, MaxVectors, Grain> tile_kernels(std::integer_sequence<int, Index...>) {
  TileKernels<Operand, Lanes, MaxVectors, Grain> table{};
  ((table.kernels[Index / MaxVectors][Index % MaxVectors] =
        Kernel<Index / MaxVectors + 1, Index % MaxVectors + 1>::run),
   ...);
  return table;
}

template <int Rows, int Vectors>
struct Avx512Tile {
  static constexpr TileKernel<float> run = &tile_avx512<Rows, Vectors>;
};
template <int Rows, int Vectors>
struct Avx2Tile {
  static constexpr TileKernel<float> run = &tile_avx2<Rows, Vectors>;
};
template <int Rows, int Vectors>
struct Avx512Bf16Tile {
  static constexpr TileKernel<bfloat16> run = &tile_avx512_bf16<Rows, Vectors>;
};

// Panels of columns (as wide as a tile) outside, tiles of rows inside, so that a panel of b is read from
// L1 by every tile of rows; the causal structure trims each tile's columns or inner range, to whole steps.
// Product is SmallProduct<float> or PairedBf16Product, whose operands hold Grain elements a step.
template <class Product, class Operand, int Lanes, int MaxVectors, int Grain>
void multiply_tiles(const Product& p, const TileKernels<Operand, Lanes, MaxVectors, Grain>& tiles) {
  constexpr std::int64_t panel = Lanes * MaxVectors;
  for (std::int64_t j0 = 0; j0 < p.n; j0 += panel) {
    for (std::int64_t i0 = 0; i0 < p.m; i0 += kTileRows) {
      const std::int64_t rows = std::min<std::int64_t>(kTileRows, p.m - i0);
      const std::int64_t last_row = i0 + rows - 1;
      std::int64_t columns_end = std::min(p.n, j0 + panel), inner_begin = 0, inner_end = p.k;
      switch (p.causal) {
        case Causal::none: break;
        case Causal::columns: columns_end = std::min(columns_end, p.diagonal + last_row + 1); break;
        case Causal::upper_inner: inner_end = std::min(inner_end, p.diagonal + last_row + 1); break;
        case Causal::lower_inner: inner_begin = std::clamp<std::int64_t>(i0 - p.diagonal, 0, p.k); break;
      }
      if (columns_end <= j0) continue;
      const std::int64_t columns = columns_end - j0;
      const std::int64_t vectors = (columns + Lanes - 1) / Lanes;
      const int last_lanes = static_cast<int>(columns - (vectors - 1) * Lanes);
      const std::int64_t first_step = inner_begin / Grain, end_step = (inner_end + Grain - 1) / Grain;
      tiles.kernels[static_cast<std::size_t>(rows - 1)][static_cast<std::size_t>(vectors - 1)](
          p.a + i0 * p.a_row_stride + first_step * p.a_column_stride, p.a_row_stride, p.a_column_stride,
          p.b + first_step * p.b_row_stride + Grain * j0, p.b_row_stride, p.c + i0 * p.c_row_stride + j0,
          p.c_row_stride, std::max<std::int64_t>(end_step - first_step, 0), last_lanes, p.accumulate);
    }
  }
}

template <class T>
void transpose_elements(const T* in, std::int64_t row_begin, std::int64_t rows, std::int64_t column_begin,
                        std::int64_t columns, std::int64_t in_stride, T* out, std::int64_t out_stride) {
  for (std::int64_t e = column_begin; e < columns; ++e)
    for (std::int64_t j = row_begin; j < rows; ++j) out[e * out_stride + j] = in[j * in_stride + e];
}

// in's rows [j, j + 8) x columns [e, e + 8) to out's rows [e, e + 8) x columns [j, j + 8), of any 32-bit
// elements (strides in them); the shuffles move bits without looking at them.
__attribute__((target("avx2"))) void transpose_8x8(const void* in_elements, std::int64_t in_stride,
                                                   void* out_elements, std::int64_t out_stride) {
  const auto* in = static_cast<const float*>(in_elements);
  auto* out = static_cast<float*>(out_elements);
  __m256 r[8], t[8];
  for (int x = 0; x < 8; ++x) r[x] = _mm256_loadu_ps(in + x * in_stride);
  for (int x = 0; x < 8; x += 2) {
    t[x] = _mm256_unpacklo_ps(r[x], r[x + 1]);
    t[x + 1] = _mm256_unpackhi_ps(r[x], r[x + 1]);
  }
  for (int x = 0; x < 8; x += 4) {
    r[x] = _mm256_shuffle_ps(t[x], t[x + 2], 0x44);
    r[x + 1] = _mm256_shuffle_ps(t[x], t[x + 2], 0xee);
    r[x + 2] = _mm256_shuffle_ps(t[x + 1], t[x + 3], 0x44);
    r[x + 3] = _mm256_shuffle_ps(t[x + 1], t[x + 3], 0xee);
  }
  for (int x = 0; x < 4; ++x) {
    _mm256_storeu_ps(out + x * out_stride, _mm256_permute2f128_ps(r[x], r[x + 4], 0x20));
    _mm256_storeu_ps(out + (x + 4) * out_stride, _mm256_permute2f128_ps(r[x], r[x + 4], 0x31));
  }
}

// The first `count` of 16 f32 lanes (none for count <= 0), and of 32 bf16 elements.
__mmask16 lane_mask(std::int64_t count) {
  return count <= 0 ? 0 : count >= 16 ? 0xffff : static_cast<__mmask16>((1u << count) - 1);
}
__mmask32 element_mask(std::int64_t count) {
  return count >= 32 ? 0xffffffffu : static_cast<__mmask32>((1u << count) - 1);
}

}  // namespace

void transpose(const float* in, std::int64_t rows, std::int64_t columns, std::int64_t in_stride, float* out,
               std::int64_t out_stride) {
  const std::int64_t full_rows = rows / 8 * 8, full_columns = columns / 8 * 8;
  for (std::int64_t e = 0; e < full_columns; e += 8)
    for (std::int64_t j = 0; j < full_rows; j += 8)
      transpose_8x8(in + j * in_stride + e, in_stride, out + e * out_stride + j, out_stride);
  transpose_elements(in, full_rows, rows, 0, full_columns, in_stride, out, out_stride);
  transpose_elements(in, 0, rows, full_columns, columns, in_stride, out, out_stride);
}

void transpose(const double* in, std::int64_t rows, std::int64_t columns, std::int64_t in_stride, double* out,
               std::int64_t out_stride) {
  transpose_elements(in, 0, rows, 0, columns, in_stride, out, out_stride);
}

void transpose_pairs(const bfloat16* in, std::int64_t rows, std::int64_t pairs, std::int64_t in_stride,
                     bfloat16* out, std::int64_t out_stride) {
  PRIMER_CHECK(in_stride % 2 == 0 && out_stride % 2 == 0, "transpose_pairs: strides {} and {} split pairs",
               in_stride, out_stride);
  const auto copy_pair = [&](std::int64_t j, std::int64_t e) {
    std::memcpy(out + e * out_stride + 2 * j, in + j * in_stride + 2 * e, 2 * sizeof(bfloat16));
  };
  const std::int64_t full_rows = rows / 8 * 8, full_pairs = pairs / 8 * 8;
  for (std::int64_t e = 0; e < full_pairs; e += 8)
    for (std::int64_t j = 0; j < full_rows; j += 8)
      transpose_8x8(in + j * in_stride + 2 * e, in_stride / 2, out + e * out_stride + 2 * j, out_stride / 2);
  for (std::int64_t e = 0; e < full_pairs; ++e)
    for (std::int64_t j = full_rows; j < rows; ++j) copy_pair(j, e);
  for (std::int64_t e = full_pairs; e < pairs; ++e)
    for (std::int64_t j = 0; j < rows; ++j) copy_pair(j, e);
}

// vcvtne2ps2bf16 rounds to nearest even as bfloat16's constructor does, but flushes subnormals to zero:
// one instruction for 32 elements where the exact narrowing takes about ten for 16. Only CPUs with
// AVX512-BF16 run the paired products, so every CPU that runs them packs alike.
__attribute__((target("avx512f,avx512bw,avx512bf16"))) void pack_pairs_along_rows(
    const float* in, std::int64_t rows, std::int64_t columns, std::int64_t in_stride, bfloat16* out,
    std::int64_t out_stride) {
  for (std::int64_t i = 0; i < rows; ++i) {
    const float* row = in + i * in_stride;
    bfloat16* packed = out + i * out_stride;
    for (std::int64_t j = 0; j < columns; j += 32) {
      const std::int64_t left = std::min<std::int64_t>(columns - j, 32);
      const __m512 low = _mm512_maskz_loadu_ps(lane_mask(left), row + j);
      const __m512 high = _mm512_maskz_loadu_ps(lane_mask(left - 16), row + j + 16);
      // An odd last element is paired with the zero its masked load left beside it.
      _mm512_mask_storeu_epi16(packed + j, element_mask(left + left % 2),
                               (__m512i)_mm512_cvtne2ps_pbh(high, low));
    }
  }
}

__attribute__((target("avx512f,avx512bw,avx512bf16"))) void pack_pairs_across_rows(
    const float* in, std::int64_t rows, std::int64_t columns, std::int64_t in_stride, bfloat16* out,
    std::int64_t out_stride) {
  // cvtne2ps2bf16 puts the first row's 16 elements below the second's; this interleaves them.
  const __m512i interleave = _mm512_set_epi16(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8,
                                              23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
  for (std::int64_t q = 0; 2 * q < rows; ++q) {
    const float* first = in + 2 * q * in_stride;
    const float* second = 2 * q + 1 < rows ? first + in_stride : nullptr;
    bfloat16* packed = out + q * out_stride;
    for (std::int64_t j = 0; j < columns; j += 16) {
      const std::int64_t left = std::min<std::int64_t>(columns - j, 16);
      const __m512 low = _mm512_maskz_loadu_ps(lane_mask(left), first + j);
      const __m512 high =
          second != nullptr ? _mm512_maskz_loadu_ps(lane_mask(left), second + j) : _mm512_setzero_ps();
      _mm512_mask_storeu_epi16(packed + 2 * j, element_mask(2 * left),
                               _mm512_permutexvar_epi16(interleave, (__m512i)_mm512_cvtne2ps_pbh(high, low)));
    }
  }
}

namespace small_product_paths {

void multiply_avx512(const SmallProduct<float>& product) {
  static constexpr auto tiles =
      tile_kernels<Avx512Tile, float, 16, 4, 1>(std::make_integer_sequence<int, kTileRows * 4>());
  multiply_tiles(product, tiles);
}

void multiply_avx2(const SmallProduct<float>& product) {
  static constexpr auto tiles =
      tile_kernels<Avx2Tile, float, 8, 2, 1>(std::make_integer_sequence<int, kTileRows * 2>());
  multiply_tiles(product, tiles);
}

}  // namespace small_product_paths

void multiply(const SmallProduct<float>& product) {
  if (avx512_available()) {
    small_product_paths::multiply_avx512(product);
  } else {
    small_product_paths::multiply_avx2(product);
  }
}

void multiply(const PairedBf16Product& product) {
  PRIMER_CHECK(avx512_bf16_available(), "bf16 pair products need AVX512-BF16, which this CPU lacks");
  static constexpr auto tiles =
      tile_kernels<Avx512Bf16Tile, bfloat16, 16, 4, 2>(std::make_integer_sequence<int, kTileRows * 4>());
  multiply_tiles(product, tiles);
}

void multiply(const SmallProduct<double>& p) {
  for (std::int64_t i = 0; i < p.m; ++i) {
    const std::int64_t columns =
        p.causal == Causal::columns ? std::clamp<std::int64_t>(p.diagonal + i + 1, 0, p.n) : p.n;
    std::int64_t inner_begin = 0, inner_end = p.k;
    if (p.causal == Causal::upper_inner) inner_end = std::clamp<std::int64_t>(p.diagonal + i + 1, 0, p.k);
    if (p.causal == Causal::lower_inner) inner_begin = std::clamp<std::int64_t>(i - p.diagonal, 0, p.k);
    for (std::int64_t j = 0; j < columns; ++j) {
      double sum = p.accumulate ? p.c[i * p.c_row_stride + j] : 0.0;
      for (std::int64_t q = inner_begin; q < inner_end; ++q)
        sum += p.a[i * p.a_row_stride + q * p.a_column_stride] * p.b[q * p.b_row_stride + j];
      p.c[i * p.c_row_stride + j] = sum;
    }
  }
}

}  // namespace primer::cpu
