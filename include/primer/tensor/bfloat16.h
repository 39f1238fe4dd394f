#pragma once
// bfloat16 storage type: the upper 16 bits of an IEEE float, converted with round-to-nearest-even.
// Arithmetic happens after conversion to float, which is what the CPU backend does for bf16 tensors.
#include <bit>
#include <cstdint>

namespace primer {

struct bfloat16 {
  std::uint16_t bits = 0;

  constexpr bfloat16() = default;
  constexpr bfloat16(float value) : bits(round_to_bits(value)) {}  // NOLINT(google-explicit-constructor)
  constexpr operator float() const {                               // NOLINT(google-explicit-constructor)
    return std::bit_cast<float>(static_cast<std::uint32_t>(bits) << 16);
  }

  static constexpr bfloat16 from_bits(std::uint16_t raw) {
    bfloat16 value;
    value.bits = raw;
    return value;
  }

 private:
  static constexpr std::uint16_t round_to_bits(float value) {
    const auto raw = std::bit_cast<std::uint32_t>(value);
    if ((raw & 0x7f800000u) == 0x7f800000u && (raw & 0x007fffffu) != 0) {
      return static_cast<std::uint16_t>((raw >> 16) | 0x0040u);  // keep NaN a NaN
    }
    const std::uint32_t rounding = 0x7fffu + ((raw >> 16) & 1u);
    return static_cast<std::uint16_t>((raw + rounding) >> 16);
  }
};

}  // namespace primer
