#pragma once
// What the CPU running the program can do, for the kernels that pick a vector width at run time (the
// build targets x86-64-v3, AVX2, so that it runs on every CPU we support).

namespace primer::cpu {

inline bool avx512_available() {
  static const bool available = __builtin_cpu_supports("avx512f");
  return available;
}

}  // namespace primer::cpu
