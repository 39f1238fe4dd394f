#pragma once
// Vectorised exp for the CPU kernels' softmax, cross-entropy and gate passes, through glibc's libmvec:
// its AVX-512 expf (16 lanes) where the CPU has AVX-512, its AVX2 expf (8 lanes) elsewhere, picked once at
// run time. Both are accurate to about 2e-7 relative, and faster than Eigen's exp on the same lanes
// (0.35 against 0.55 ns an element with AVX2 on an Intel Xeon of the Sapphire Rapids class; 0.28 with
// AVX-512), which left these passes bound by exp. The f64 overloads (the gradient checks' type) use
// Eigen's exp.
#include <cstdint>

namespace primer::cpu {

// out[i] = exp(scale * x[i] - shift) for i < n, returning the sum of the results (summed in vector lanes,
// then across them, in a fixed order). out may be x.
float exp_shifted(const float* x, float* out, std::int64_t n, float shift, float scale = 1.0f);
double exp_shifted(const double* x, double* out, std::int64_t n, double shift, double scale = 1.0);

// out[i] = 1 / (1 + exp(-x[i])). out may be x.
void sigmoid(const float* x, float* out, std::int64_t n);
void sigmoid(const double* x, double* out, std::int64_t n);

// Both paths, for the tests to compare on a CPU that can run them; the functions above pick one.
namespace vector_math_paths {
float exp_shifted_avx2(const float* x, float* out, std::int64_t n, float shift, float scale);
float exp_shifted_avx512(const float* x, float* out, std::int64_t n, float shift, float scale);
void sigmoid_avx2(const float* x, float* out, std::int64_t n);
void sigmoid_avx512(const float* x, float* out, std::int64_t n);
}  // namespace vector_math_paths

}  // namespace primer::cpu
