#include "backend/cpu/vector_math.h"

#include <immintrin.h>
#include <Eigen/Core>

#include "backend/cpu/cpu_features.h"

namespace primer::cpu {
namespace vector_math_paths {
namespace {

// exp(x) = 2^n e^r with n = round(x / ln 2) and r = x - n ln 2 in [-ln 2 / 2, ln 2 / 2], ln 2 taken in
// two parts (Cody and Waite) so that n ln 2 is exact; e^r from Cephes' degree-7 expf polynomial (1 + r +
// r^2 (...)). Within 8.4e-8 relative of double's exp over every eighth float from -87 to 88.7 (where exp
// is a normal float); 0 below -104 and inf above 89, as exp rounds there; NaN stays NaN.
constexpr float kLog2e = 1.44269504088896341f, kLn2High = 0.693359375f, kLn2Low = -2.12194440e-4f;
constexpr float kExpLow = -104.0f, kExpHigh = 89.0f;
constexpr float kExpPolynomial[] = {1.9875691500e-4f, 1.3981999507e-3f, 8.3334519073e-3f,
                                    4.1665795894e-2f, 1.6666665459e-1f, 5.0000001201e-1f};

// The zero-masked forms with every lane set: GCC 12's unmasked ones pass an undefined vector that its
// -Wmaybe-uninitialized reports.
__attribute__((target("avx512f"), always_inline)) inline __m512 exp_avx512(__m512 x) {
  constexpr __mmask16 all = 0xffff;
  x = _mm512_maskz_min_ps(all, _mm512_set1_ps(kExpHigh),
                          _mm512_maskz_max_ps(all, _mm512_set1_ps(kExpLow), x));
  const __m512 n = _mm512_maskz_roundscale_ps(all, _mm512_mul_ps(x, _mm512_set1_ps(kLog2e)),
                                              _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  const __m512 r =
      _mm512_fnmadd_ps(n, _mm512_set1_ps(kLn2Low), _mm512_fnmadd_ps(n, _mm512_set1_ps(kLn2High), x));
  __m512 y = _mm512_set1_ps(kExpPolynomial[0]);
  for (int i = 1; i < 6; ++i) y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(kExpPolynomial[i]));
  y = _mm512_add_ps(_mm512_fmadd_ps(y, _mm512_mul_ps(r, r), r), _mm512_set1_ps(1.0f));
  return _mm512_maskz_scalef_ps(all, y, n);
}

// 2^e for e in [-126, 127], built in the exponent field.
__attribute__((target("avx2"), always_inline)) inline __m256 power_of_two_avx2(__m256i e) {
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(e, _mm256_set1_epi32(127)), 23));
}

// AVX2 has no scalef: 2^n is applied in two halves, 2^(n/2) 2^(n - n/2), so that n from -150 to 129
// neither overflows a factor nor loses the gradual underflow below 2^-126.
__attribute__((target("avx2,fma"), always_inline)) inline __m256 exp_avx2(__m256 x) {
  x = _mm256_min_ps(_mm256_set1_ps(kExpHigh), _mm256_max_ps(_mm256_set1_ps(kExpLow), x));
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(kLog2e)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  const __m256 r =
      _mm256_fnmadd_ps(n, _mm256_set1_ps(kLn2Low), _mm256_fnmadd_ps(n, _mm256_set1_ps(kLn2High), x));
  __m256 y = _mm256_set1_ps(kExpPolynomial[0]);
  for (int i = 1; i < 6; ++i) y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(kExpPolynomial[i]));
  y = _mm256_add_ps(_mm256_fmadd_ps(y, _mm256_mul_ps(r, r), r), _mm256_set1_ps(1.0f));
  const __m256i whole = _mm256_cvtps_epi32(n), half = _mm256_srai_epi32(whole, 1);
  return _mm256_mul_ps(_mm256_mul_ps(y, power_of_two_avx2(half)),
                       power_of_two_avx2(_mm256_sub_epi32(whole, half)));
}

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

// The lanes summed in halves, as _mm512_reduce_add_ps would: the 256-bit halves added, then avx2_lane_sum's
// halving. The halves through the zero-masked extract: _mm512_reduce_add_ps, the unmasked extract and the
// 512-to-256 cast pass an undefined vector that GCC 12's uninitialised-variable warning reports.
__attribute__((target("avx512f"))) __m256 avx512_half(__m512 v, int half) {
  const __m512d bits = _mm512_castps_pd(v);
  return _mm256_castpd_ps(half == 0 ? _mm512_maskz_extractf64x4_pd(0xf, bits, 0)
                                    : _mm512_maskz_extractf64x4_pd(0xf, bits, 1));
}

__attribute__((target("avx512f"))) float avx512_lane_sum(__m512 v) {
  return avx2_lane_sum(_mm256_add_ps(avx512_half(v, 0), avx512_half(v, 1)));
}

__attribute__((target("avx2,fma"))) __m256 avx2_sigmoid(__m256 x) {
  const __m256 one = _mm256_set1_ps(1.0f);
  return _mm256_div_ps(one, _mm256_add_ps(one, exp_avx2(_mm256_sub_ps(_mm256_setzero_ps(), x))));
}

__attribute__((target("avx512f"))) __m512 avx512_sigmoid(__m512 x) {
  const __m512 one = _mm512_set1_ps(1.0f);
  return _mm512_div_ps(one, _mm512_add_ps(one, exp_avx512(_mm512_sub_ps(_mm512_setzero_ps(), x))));
}

}  // namespace

__attribute__((target("avx2,fma"))) float exp_shifted_avx2(const float* x, float* out, std::int64_t n,
                                                           float shift, float scale) {
  const __m256 s = _mm256_set1_ps(shift), a = _mm256_set1_ps(scale);
  __m256 sum = _mm256_setzero_ps();
  std::int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 e = exp_avx2(_mm256_fmsub_ps(a, _mm256_loadu_ps(x + i), s));
    _mm256_storeu_ps(out + i, e);
    sum = _mm256_add_ps(sum, e);
  }
  if (i < n) {
    const __m256i mask = avx2_tail_mask(n - i);
    const __m256 e = exp_avx2(_mm256_fmsub_ps(a, _mm256_maskload_ps(x + i, mask), s));
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
    const __m512 e = exp_avx512(_mm512_fmsub_ps(a, _mm512_loadu_ps(x + i), s));
    _mm512_storeu_ps(out + i, e);
    sum = _mm512_add_ps(sum, e);
  }
  if (i < n) {
    const __mmask16 mask = static_cast<__mmask16>((1u << (n - i)) - 1);
    const __m512 e = exp_avx512(_mm512_fmsub_ps(a, _mm512_maskz_loadu_ps(mask, x + i), s));
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
