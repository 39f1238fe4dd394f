#pragma once
// Contiguous runs of f32 narrowed to bf16, bit for bit as bfloat16's constructor rounds (to nearest even,
// a NaN kept a NaN), 16 lanes at a time with AVX-512 where the CPU has it, 8 with AVX2 elsewhere, picked
// once at run time. The compiler's own loop over the constructor ran at 0.16 ns an element on an AMD Zen 5
// (2M elements in 345 us on one core), 2.4 times the time of reading and writing them; bf16 products
// convert about 40M elements a step at the benchmark shape. AVX-512 BF16's vcvtneps2bf16 is not used:
// it flushes subnormals to zero, which the other CPUs would not.
#include <cstdint>

#include "primer/tensor/bfloat16.h"

namespace primer::cpu {

// out[i] = bfloat16(in[i]) for i < n, on the calling thread.
void narrow_to_bf16(const float* in, bfloat16* out, std::int64_t n);

// Both paths, for the tests to compare on a CPU that can run them; narrow_to_bf16 picks one.
namespace bf16_conversion_paths {
void narrow_avx2(const float* in, bfloat16* out, std::int64_t n);
void narrow_avx512(const float* in, bfloat16* out, std::int64_t n);
}  // namespace bf16_conversion_paths

}  // namespace primer::cpu
