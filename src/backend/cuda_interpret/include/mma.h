#pragma once
// nvcuda::wmma in the interpret mode, for what the kernels use: 16x16x16 bf16 fragments with f32
// accumulators. Each lane holds 8 of a fragment's 256 elements (lane = element / 8 in the fragment's
// row-major order; the real layout is unspecified, and code must not depend on it). Loads and stores touch
// only the calling lane's elements, when that lane reaches them: like the hardware, they do not make one
// lane's writes visible to another, so a missing __syncwarp shows. mma_sync gathers the warp's fragments,
// multiplies the bf16 values exactly in f32 and accumulates in f32. Pointers must be 32-byte aligned and
// ldm a multiple of 16 bytes, as CUDA requires.
#include <cuda_bf16.h>

#include <cstdint>
#include <string>
#include <type_traits>

#include "primer_interpret/execution.h"

namespace nvcuda::wmma {

struct row_major {};
struct col_major {};
struct matrix_a {};
struct matrix_b {};
struct accumulator {};
enum layout_t { mem_row_major, mem_col_major };

template <class Use, int M, int N, int K, class T, class Layout = void>
struct fragment {
  static_assert(M == 16 && N == 16 && K == 16, "the interpret mode emulates 16x16x16 fragments only");
  static_assert(std::is_same_v<Use, accumulator> ? std::is_same_v<T, float>
                                                 : std::is_same_v<T, __nv_bfloat16>,
                "the interpret mode emulates bf16 inputs with f32 accumulators only");
  static constexpr int num_elements = 8;
  T x[num_elements];
};

namespace detail {

inline void check_operand(const void* pointer, unsigned ldm, std::size_t element_bytes, const char* what) {
  if (reinterpret_cast<std::uintptr_t>(pointer) % 32 != 0) {
    primer::interpret::device_failure(std::string(what) + ": the pointer is not 32-byte aligned");
  }
  if (ldm * element_bytes % 16 != 0) {
    primer::interpret::device_failure(std::string(what) + ": ldm " + std::to_string(ldm) +
                                      " is not a multiple of 16 bytes");
  }
}

// The (row, column) of the calling lane's i-th element.
inline int element_row(int i) {
  return (static_cast<int>(primer::interpret::position().lane) * 8 + i) / 16;
}
inline int element_column(int i) {
  return (static_cast<int>(primer::interpret::position().lane) * 8 + i) % 16;
}

// Offset of (row, column) of the logical 16x16 operand in memory; `transposed` reads it column-major.
inline std::size_t offset(int row, int column, unsigned ldm, bool column_major) {
  return column_major ? static_cast<std::size_t>(column) * ldm + row
                      : static_cast<std::size_t>(row) * ldm + column;
}

struct MmaOperands {
  const float* c;
  const __nv_bfloat16* a;
  const __nv_bfloat16* b;
};

inline void mma_combine(void* const* inputs, void* const* outputs, unsigned) {
  float a[16][16], b[16][16], c[16][16];
  for (int lane = 0; lane < 32; ++lane) {
    const auto* in = static_cast<const MmaOperands*>(inputs[lane]);
    for (int i = 0; i < 8; ++i) {
      const int row = (lane * 8 + i) / 16, column = (lane * 8 + i) % 16;
      a[row][column] = __bfloat162float(in->a[i]);
      b[row][column] = __bfloat162float(in->b[i]);
      c[row][column] = in->c[i];
    }
  }
  for (int lane = 0; lane < 32; ++lane) {
    auto* d = static_cast<float*>(outputs[lane]);
    for (int i = 0; i < 8; ++i) {
      const int row = (lane * 8 + i) / 16, column = (lane * 8 + i) % 16;
      float total = c[row][column];
      for (int k = 0; k < 16; ++k) total += a[row][k] * b[k][column];
      d[i] = total;
    }
  }
}

}  // namespace detail

template <class Use, class Layout>
void load_matrix_sync(fragment<Use, 16, 16, 16, __nv_bfloat16, Layout>& f, const __nv_bfloat16* p,
                      unsigned ldm) {
  detail::check_operand(p, ldm, sizeof(__nv_bfloat16), "wmma::load_matrix_sync");
  for (int i = 0; i < 8; ++i) {
    f.x[i] = p[detail::offset(detail::element_row(i), detail::element_column(i), ldm,
                              std::is_same_v<Layout, col_major>)];
  }
}

inline void load_matrix_sync(fragment<accumulator, 16, 16, 16, float>& f, const float* p, unsigned ldm,
                             layout_t layout) {
  detail::check_operand(p, ldm, sizeof(float), "wmma::load_matrix_sync");
  for (int i = 0; i < 8; ++i) {
    f.x[i] =
        p[detail::offset(detail::element_row(i), detail::element_column(i), ldm, layout == mem_col_major)];
  }
}

inline void store_matrix_sync(float* p, const fragment<accumulator, 16, 16, 16, float>& f, unsigned ldm,
                              layout_t layout) {
  detail::check_operand(p, ldm, sizeof(float), "wmma::store_matrix_sync");
  for (int i = 0; i < 8; ++i) {
    p[detail::offset(detail::element_row(i), detail::element_column(i), ldm, layout == mem_col_major)] =
        f.x[i];
  }
}

inline void fill_fragment(fragment<accumulator, 16, 16, 16, float>& f, float value) {
  for (float& element : f.x) element = value;
}

template <class LayoutA, class LayoutB>
void mma_sync(fragment<accumulator, 16, 16, 16, float>& d,
              const fragment<matrix_a, 16, 16, 16, __nv_bfloat16, LayoutA>& a,
              const fragment<matrix_b, 16, 16, 16, __nv_bfloat16, LayoutB>& b,
              const fragment<accumulator, 16, 16, 16, float>& c) {
  detail::MmaOperands in{c.x, a.x, b.x};
  float result[8];
  primer::interpret::warp_collective(0xffffffffu, detail::mma_combine, &in, result, __FILE__, __LINE__);
  for (int i = 0; i < 8; ++i) d.x[i] = result[i];
}

}  // namespace nvcuda::wmma
