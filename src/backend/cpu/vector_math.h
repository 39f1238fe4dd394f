#pragma once
// Vectorised exp for the CPU kernels' softmax, cross-entropy and gate passes: a range reduction and a
// polynomial inlined into the loops, 16 lanes where the CPU has AVX-512, 8 with AVX2, picked once at run
// time; at most 8.4e-8 relative from exp over every eighth float whose exp is normal. glibc's libmvec expf,
// which these passes called before (0.28 ns an element with AVX-512, itself faster than Eigen's exp),
// costs a call per vector; over attention's rows of 128 the inlined form is 1.6-1.8x faster (an AMD Zen 5,
// primer-bench-ops exp/). The f64 overloads (the gradient checks' type) use Eigen's exp.
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
