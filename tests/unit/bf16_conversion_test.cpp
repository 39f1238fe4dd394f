// The CPU's vectorised f32 -> bf16 narrowing (src/backend/cpu/bf16_conversion.h), both paths, bit for bit
// against bfloat16's constructor: ties both ways, subnormals, infinities, NaNs with every kind of payload,
// the largest finite values (which round up to infinity) and random bit patterns, on every length up to
// three vectors and one long run, so that every tail is covered; nothing past n is written.
#include <gtest/gtest.h>

#include <bit>
#include <cstdint>
#include <random>
#include <vector>

#include "backend/cpu/bf16_conversion.h"
#include "backend/cpu/cpu_features.h"

namespace primer::cpu {
namespace {

using Narrow = void (*)(const float*, bfloat16*, std::int64_t);

std::vector<float> inputs() {
  const std::uint32_t special[] = {
      0x00000000u, 0x80000000u,                            // zeros
      0x7f800000u, 0xff800000u,                            // infinities
      0x7fc00000u, 0xffc00000u, 0x7f800001u, 0xff812345u,  // quiet and signalling NaNs
      0x7fffffffu, 0x7f80ffffu,                            // NaNs whose rounding would carry
      0x00000001u, 0x007fffffu, 0x00008000u, 0x80018000u,  // subnormals, ties among them
      0x7f7fffffu, 0xff7fffffu, 0x7f7f8000u,               // the largest finite: round to infinity
      0x3f808000u, 0x3f818000u, 0x3f807fffu, 0x3f808001u,  // ties to even, down and up; near ties
  };
  std::vector<float> values;
  for (const std::uint32_t bits : special) values.push_back(std::bit_cast<float>(bits));
  std::mt19937 generator(5);
  while (values.size() < 1000)
    values.push_back(std::bit_cast<float>(static_cast<std::uint32_t>(generator())));
  return values;
}

void check(Narrow narrow) {
  const std::vector<float> all = inputs();
  std::vector<std::int64_t> lengths;
  for (std::int64_t n = 0; n <= 48; ++n) lengths.push_back(n);
  lengths.push_back(static_cast<std::int64_t>(all.size()));
  for (const std::int64_t n : lengths) {
    // Every value lands in every lane position and in the scalar tail somewhere across the lengths.
    for (std::size_t shift = 0; shift + static_cast<std::size_t>(n) <= all.size(); shift += 7) {
      const float* in = all.data() + shift;
      std::vector<bfloat16> out(static_cast<std::size_t>(n) + 1, bfloat16::from_bits(0xabcd));
      narrow(in, out.data(), n);
      for (std::int64_t i = 0; i < n; ++i) {
        ASSERT_EQ(out[static_cast<std::size_t>(i)].bits, bfloat16(in[i]).bits)
            << "n " << n << ", element " << i << ": f32 bits 0x" << std::hex
            << std::bit_cast<std::uint32_t>(in[i]);
      }
      ASSERT_EQ(out.back().bits, 0xabcd) << "written past n = " << n;
      if (n == static_cast<std::int64_t>(all.size())) break;
    }
  }
}

TEST(Bf16Conversion, Avx2NarrowsAsTheScalarConversion) {
  check(bf16_conversion_paths::narrow_avx2);
}

TEST(Bf16Conversion, Avx512NarrowsAsTheScalarConversion) {
  if (!avx512_available()) GTEST_SKIP() << "this CPU has no AVX-512";
  check(bf16_conversion_paths::narrow_avx512);
}

}  // namespace
}  // namespace primer::cpu
