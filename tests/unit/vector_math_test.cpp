// The CPU's vectorised exp and sigmoid (src/backend/cpu/vector_math.h) against double-precision
// references, on every length up to three vectors and one long row, so that every tail length of both
// the AVX2 and the AVX-512 path is covered; nothing past n is written.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "backend/cpu/cpu_features.h"
#include "backend/cpu/vector_math.h"

namespace primer::cpu {
namespace {

using ExpShifted = float (*)(const float*, float*, std::int64_t, float, float);
using Sigmoid = void (*)(const float*, float*, std::int64_t);

constexpr float kGuard = 12345.0f;

std::vector<float> inputs(std::int64_t n) {
  std::vector<float> x(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) x[static_cast<std::size_t>(i)] = std::sin(0.7f * i) * 30.0f - 5.0f;
  return x;
}

std::vector<std::int64_t> lengths() {
  std::vector<std::int64_t> all;
  for (std::int64_t n = 0; n <= 48; ++n) all.push_back(n);
  all.push_back(1000);
  return all;
}

void check_exp_shifted(ExpShifted exp_shifted_path, bool in_place, float scale) {
  for (const std::int64_t n : lengths()) {
    const std::vector<float> x = inputs(n);
    const float shift = 3.5f;
    std::vector<float> out = x;
    out.push_back(kGuard);
    const float sum = exp_shifted_path(in_place ? out.data() : x.data(), out.data(), n, shift, scale);
    double expected_sum = 0.0;
    for (std::int64_t i = 0; i < n; ++i) {
      // scale * x - shift is rounded to float once first, as the kernel's fused multiply-subtract does;
      // the exp is what is compared.
      const double expected =
          std::exp(static_cast<double>(std::fma(scale, x[static_cast<std::size_t>(i)], -shift)));
      expected_sum += expected;
      EXPECT_NEAR(out[static_cast<std::size_t>(i)], expected, 1e-6 * expected) << "n " << n << " i " << i;
    }
    EXPECT_NEAR(sum, expected_sum, 1e-6 * expected_sum) << "n " << n;
    EXPECT_EQ(out.back(), kGuard) << "written past n = " << n;
  }
}

// Where exp leaves the normal floats: overflow to inf, gradual underflow, 0, and inf and NaN inputs.
void check_exp_edges(ExpShifted exp_shifted_path) {
  const float inf = std::numeric_limits<float>::infinity();
  const std::vector<float> x = {88.5f, 88.8f, 200.0f, inf, -87.0f, -95.0f, -103.5f, -110.0f, -inf, 0.0f};
  std::vector<float> out(x.size());
  exp_shifted_path(x.data(), out.data(), static_cast<std::int64_t>(x.size()), 0.0f, 1.0f);
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double expected = std::exp(static_cast<double>(x[i]));
    if (expected > std::numeric_limits<float>::max()) {
      EXPECT_EQ(out[i], inf) << "exp(" << x[i] << ")";
    } else if (expected < std::numeric_limits<float>::min()) {
      // A subnormal result: zero where the thread flushes them (floating_point.cpp), else within the
      // spacing of subnormals, 2^-149.
      if (out[i] != 0.0f) {
        EXPECT_NEAR(out[i], expected, 1.5e-45) << "exp(" << x[i] << ")";
      }
    } else {
      EXPECT_NEAR(out[i], expected, 1e-6 * expected) << "exp(" << x[i] << ")";
    }
  }
  const float nan = std::numeric_limits<float>::quiet_NaN();
  float nan_out = 0.0f;
  exp_shifted_path(&nan, &nan_out, 1, 0.0f, 1.0f);
  EXPECT_TRUE(std::isnan(nan_out));
}

void check_sigmoid(Sigmoid sigmoid_path) {
  for (const std::int64_t n : lengths()) {
    std::vector<float> x = inputs(n);
    if (n > 2) x[1] = -200.0f, x[2] = 200.0f;  // exp overflows to inf: the sigmoid is still 0 and 1
    std::vector<float> out(x.size() + 1, kGuard);
    sigmoid_path(x.data(), out.data(), n);
    for (std::int64_t i = 0; i < n; ++i) {
      const double expected = 1.0 / (1.0 + std::exp(-static_cast<double>(x[static_cast<std::size_t>(i)])));
      EXPECT_NEAR(out[static_cast<std::size_t>(i)], expected, 1e-6 * expected + 1e-30) << "n " << n;
    }
    EXPECT_EQ(out.back(), kGuard) << "written past n = " << n;
  }
}

TEST(VectorMath, ExpShiftedOnAvx2) {
  check_exp_shifted(vector_math_paths::exp_shifted_avx2, false, 1.0f);
  check_exp_shifted(vector_math_paths::exp_shifted_avx2, true, 1.0f);
  check_exp_shifted(vector_math_paths::exp_shifted_avx2, false, -0.7f);
  check_exp_edges(vector_math_paths::exp_shifted_avx2);
}

TEST(VectorMath, ExpShiftedOnAvx512) {
  if (!avx512_available()) GTEST_SKIP() << "this CPU has no AVX-512";
  check_exp_shifted(vector_math_paths::exp_shifted_avx512, false, 1.0f);
  check_exp_shifted(vector_math_paths::exp_shifted_avx512, true, 1.0f);
  check_exp_shifted(vector_math_paths::exp_shifted_avx512, false, -0.7f);
  check_exp_edges(vector_math_paths::exp_shifted_avx512);
}

TEST(VectorMath, SigmoidOnAvx2) {
  check_sigmoid(vector_math_paths::sigmoid_avx2);
}

TEST(VectorMath, SigmoidOnAvx512) {
  if (!avx512_available()) GTEST_SKIP() << "this CPU has no AVX-512";
  check_sigmoid(vector_math_paths::sigmoid_avx512);
}

// The dispatching entry points, f32 and f64, agree with the path this CPU runs.
TEST(VectorMath, DispatchMatchesAPath) {
  const std::vector<float> x = inputs(37);
  std::vector<float> a(x.size()), b(x.size());
  const bool avx512 = avx512_available();
  const float sum = exp_shifted(x.data(), a.data(), 37, 1.0f, 0.5f);
  const float path_sum = avx512 ? vector_math_paths::exp_shifted_avx512(x.data(), b.data(), 37, 1.0f, 0.5f)
                                : vector_math_paths::exp_shifted_avx2(x.data(), b.data(), 37, 1.0f, 0.5f);
  EXPECT_EQ(sum, path_sum);
  EXPECT_EQ(a, b);
  std::vector<double> xd(x.begin(), x.end()), out(x.size());
  const double sum_d = exp_shifted(xd.data(), out.data(), 37, 1.0, 0.5);
  EXPECT_NEAR(sum_d, sum, 1e-6 * sum);
  sigmoid(xd.data(), out.data(), 37);
  EXPECT_NEAR(out[5], 1.0 / (1.0 + std::exp(-xd[5])), 1e-15);
}

}  // namespace
}  // namespace primer::cpu
