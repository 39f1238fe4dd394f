#pragma once
// What the CPU running the program can do, for the kernels that pick a vector width at run time (the
// build targets x86-64-v3, AVX2, so that it runs on every CPU we support).

namespace primer::cpu {

inline bool avx512_available() {
  static const bool available = __builtin_cpu_supports("avx512f");
  return available;
}

// AVX512-BF16's dot products and conversions, with the AVX512-BW shuffles that pack their operands (every
// CPU with the first has the second).
inline bool avx512_bf16_available() {
  static const bool available = __builtin_cpu_supports("avx512bf16") && __builtin_cpu_supports("avx512bw");
  return available;
}

}  // namespace primer::cpu
