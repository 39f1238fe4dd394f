#include "backend/cpu/vector_math.h"

#include <immintrin.h>
#include <Eigen/Core>

#include "backend/cpu/cpu_features.h"

// libmvec's variants under the x86-64 vector function ABI: 'd' is AVX2 (8 floats), 'e' AVX-512 (16).
extern "C" __m256 _ZGVdN8v_expf(__m256 x);
extern "C" __m512 _ZGVeN16v_expf(__m512 x);

namespace primer::cpu {
namespace vector_math_paths {
namespace {

// Lanes [0, n) of a tail of n < 8 elements, for masked loads and stores.
__attribute__((target("avx2"))) __m256i avx2_tail_mask(std::int64_t n) {
  const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n)), lanes);
}

__attribute__((target("avx2"))) float avx2_lane_sum(__m256 v) {
  const __m128 halves = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  const __m128 pairs = _mm_add_ps(halves, _mm_movehl_ps(halves, halves));
  return _mm_cvtss_f32(_mm_add_ss(pairs, _mm_shuffle_ps(pairs, pairs, 1)));
}

// The lanes summed in halves, as _mm512_reduce_add_ps would (which trips GCC 12's uninitialised-variable
// warning through its undefined upper halves).
__attribute__((target("avx512f"))) float avx512_lane_sum(__m512 v) {
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, v);
  for (int width = 8; width > 0; width /= 2) {
    for (int i = 0; i < width; ++i) lanes[i] += lanes[i + width];
  }
  return lanes[0];
}

__attribute__((target("avx2,fma"))) __m256 avx2_sigmoid(__m256 x) {
  const __m256 one = _mm256_set1_ps(1.0f);
  return _mm256_div_ps(one, _mm256_add_ps(one, _ZGVdN8v_expf(_mm256_sub_ps(_mm256_setzero_ps(), x))));
}

__attribute__((target("avx512f"))) __m512 avx512_sigmoid(__m512 x) {
  const __m512 one = _mm512_set1_ps(1.0f);
  return _mm512_div_ps(one, _mm512_add_ps(one, _ZGVeN16v_expf(_mm512_sub_ps(_mm512_setzero_ps(), x))));
}

}  // namespace

__attribute__((target("avx2,fma"))) float exp_shifted_avx2(const float* x, float* out, std::int64_t n,
                                                           float shift, float scale) {
  const __m256 s = _mm256_set1_ps(shift), a = _mm256_set1_ps(scale);
  __m256 sum = _mm256_setzero_ps();
  std::int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 e = _ZGVdN8v_expf(_mm256_fmsub_ps(a, _mm256_loadu_ps(x + i), s));
    _mm256_storeu_ps(out + i, e);
    sum = _mm256_add_ps(sum, e);
  }
  if (i < n) {
    const __m256i mask = avx2_tail_mask(n - i);
    const __m256 e = _ZGVdN8v_expf(_mm256_fmsub_ps(a, _mm256_maskload_ps(x + i, mask), s));
    _mm256_maskstore_ps(out + i, mask, e);
    sum = _mm256_add_ps(sum, _mm256_and_ps(e, _mm256_castsi256_ps(mask)));
  }
  return avx2_lane_sum(sum);
}

__attribute__((target("avx512f"))) float exp_shifted_avx512(const float* x, float* out, std::int64_t n,
                                                            float shift, float scale) {
  const __m512 s = _mm512_set1_ps(shift), a = _mm512_set1_ps(scale);
  __m512 sum = _mm512_setzero_ps();
  std::int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512 e = _ZGVeN16v_expf(_mm512_fmsub_ps(a, _mm512_loadu_ps(x + i), s));
    _mm512_storeu_ps(out + i, e);
    sum = _mm512_add_ps(sum, e);
  }
  if (i < n) {
    const __mmask16 mask = static_cast<__mmask16>((1u << (n - i)) - 1);
    const __m512 e = _ZGVeN16v_expf(_mm512_fmsub_ps(a, _mm512_maskz_loadu_ps(mask, x + i), s));
    _mm512_mask_storeu_ps(out + i, mask, e);
    sum = _mm512_mask_add_ps(sum, mask, sum, e);
  }
  return avx512_lane_sum(sum);
}

__attribute__((target("avx2,fma"))) void sigmoid_avx2(const float* x, float* out, std::int64_t n) {
  std::int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(out + i, avx2_sigmoid(_mm256_loadu_ps(x + i)));
  if (i < n) {
    const __m256i mask = avx2_tail_mask(n - i);
    _mm256_maskstore_ps(out + i, mask, avx2_sigmoid(_mm256_maskload_ps(x + i, mask)));
  }
}

__attribute__((target("avx512f"))) void sigmoid_avx512(const float* x, float* out, std::int64_t n) {
  std::int64_t i = 0;
  for (; i + 16 <= n; i += 16) _mm512_storeu_ps(out + i, avx512_sigmoid(_mm512_loadu_ps(x + i)));
  if (i < n) {
    const __mmask16 mask = static_cast<__mmask16>((1u << (n - i)) - 1);
    _mm512_mask_storeu_ps(out + i, mask, avx512_sigmoid(_mm512_maskz_loadu_ps(mask, x + i)));
  }
}

}  // namespace vector_math_paths

float exp_shifted(const float* x, float* out, std::int64_t n, float shift, float scale) {
  return avx512_available() ? vector_math_paths::exp_shifted_avx512(x, out, n, shift, scale)
                            : vector_math_paths::exp_shifted_avx2(x, out, n, shift, scale);
}

void sigmoid(const float* x, float* out, std::int64_t n) {
  if (avx512_available()) {
    vector_math_paths::sigmoid_avx512(x, out, n);
  } else {
    vector_math_paths::sigmoid_avx2(x, out, n);
  }
}

double exp_shifted(const double* x, double* out, std::int64_t n, double shift, double scale) {
  Eigen::Map<Eigen::ArrayXd> values(out, n);
  values = (scale * Eigen::Map<const Eigen::ArrayXd>(x, n) - shift).exp();
  return values.sum();
}

void sigmoid(const double* x, double* out, std::int64_t n) {
  Eigen::Map<Eigen::ArrayXd>(out, n) = (1.0 + (-Eigen::Map<const Eigen::ArrayXd>(x, n)).exp()).inverse();
}

}  // namespace primer::cpu
