#include "backend/cpu/bf16_conversion.h"

#include <immintrin.h>

#include "backend/cpu/cpu_features.h"

namespace primer::cpu {

namespace {

// Per 32-bit lane, as bfloat16::round_to_bits: (raw + 0x7fff + ((raw >> 16) & 1)) >> 16, or for a NaN its
// upper half with the quiet bit set.
__attribute__((target("avx2"))) __m256i narrow8(__m256 x) {
  const __m256i raw = _mm256_castps_si256(x);
  const __m256i upper = _mm256_srli_epi32(raw, 16);
  const __m256i rounding =
      _mm256_add_epi32(_mm256_set1_epi32(0x7fff), _mm256_and_si256(upper, _mm256_set1_epi32(1)));
  const __m256i rounded = _mm256_srli_epi32(_mm256_add_epi32(raw, rounding), 16);
  const __m256i nan = _mm256_castps_si256(_mm256_cmp_ps(x, x, _CMP_UNORD_Q));
  return _mm256_blendv_epi8(rounded, _mm256_or_si256(upper, _mm256_set1_epi32(0x40)), nan);
}

// The zero-masked forms of the shift and the narrowing: the plain ones start from an undefined register,
// which GCC 12 reports as maybe uninitialised.
constexpr __mmask16 kAllLanes = 0xffff;

__attribute__((target("avx512f"))) __m256i narrow16(__m512 x) {
  const __m512i raw = _mm512_castps_si512(x);
  const __m512i upper = _mm512_maskz_srli_epi32(kAllLanes, raw, 16);
  const __m512i rounding =
      _mm512_add_epi32(_mm512_set1_epi32(0x7fff), _mm512_and_si512(upper, _mm512_set1_epi32(1)));
  const __m512i rounded = _mm512_maskz_srli_epi32(kAllLanes, _mm512_add_epi32(raw, rounding), 16);
  const __mmask16 nan = _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q);
  return _mm512_maskz_cvtepi32_epi16(
      kAllLanes, _mm512_mask_blend_epi32(nan, rounded, _mm512_or_si512(upper, _mm512_set1_epi32(0x40))));
}

}  // namespace

namespace bf16_conversion_paths {

__attribute__((target("avx2"))) void narrow_avx2(const float* in, bfloat16* out, std::int64_t n) {
  std::int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    // Both halves hold values below 2^16, so the unsigned saturating pack keeps them; it interleaves
    // 64-bit blocks of the two, which the permute puts back in order.
    const __m256i packed =
        _mm256_packus_epi32(narrow8(_mm256_loadu_ps(in + i)), narrow8(_mm256_loadu_ps(in + i + 8)));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i), _mm256_permute4x64_epi64(packed, 0xd8));
  }
  for (; i < n; ++i) out[i] = bfloat16(in[i]);
}

__attribute__((target("avx512f"))) void narrow_avx512(const float* in, bfloat16* out, std::int64_t n) {
  std::int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i), narrow16(_mm512_loadu_ps(in + i)));
  }
  for (; i < n; ++i) out[i] = bfloat16(in[i]);
}

}  // namespace bf16_conversion_paths

void narrow_to_bf16(const float* in, bfloat16* out, std::int64_t n) {
  static const auto path =
      avx512_available() ? bf16_conversion_paths::narrow_avx512 : bf16_conversion_paths::narrow_avx2;
  path(in, out, n);
}

}  // namespace primer::cpu
