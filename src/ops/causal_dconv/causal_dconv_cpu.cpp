// Multi-DConv-Head Attention's causal depthwise convolution of width 3 along time.
#include <algorithm>
#include <array>

#include "backend/cpu/kernel_support.h"
#include "ops/causal_dconv/causal_dconv_kernels.h"

namespace primer::cpu {
namespace {

constexpr std::int64_t kTaps = 3;

}  // namespace

void causal_dconv_forward(const Tensor& x, const Tensor& weight, const Tensor& y) {
  dispatch_floating(x.dtype(), "causal_dconv", [&](auto tag) {
    using T = decltype(tag);
    using S = compute_type<T>;
    check_operands({&x, &weight, &y}, x.dtype(), "causal_dconv");
    const std::int64_t batch = x.size(0), time = x.size(1), channels = x.size(2);
    const T* px = x.data<T>();
    const T* pw = weight.data<T>();
    T* py = y.data<T>();
#pragma omp parallel for collapse(2) schedule(static)
    for (std::int64_t b = 0; b < batch; ++b) {
      for (std::int64_t t = 0; t < time; ++t) {
        const T* row = px + (b * time + t) * channels;
        T* out = py + (b * time + t) * channels;
        for (std::int64_t c = 0; c < channels; ++c) {
          S acc = S(pw[c]) * S(row[c]);
          if (t >= 1) acc += S(pw[channels + c]) * S(row[c - channels]);
          if (t >= 2) acc += S(pw[2 * channels + c]) * S(row[c - 2 * channels]);
          out[c] = static_cast<T>(acc);
        }
      }
    }
  });
}

void causal_dconv_backward(const Tensor& grad_y, const Tensor& x, const Tensor& weight, const Tensor& grad_x,
                           const Tensor& grad_weight) {
  dispatch_floating(x.dtype(), "causal_dconv backward", [&](auto tag) {
    using T = decltype(tag);
    using S = compute_type<T>;
    check_operands({&grad_y, &x, &weight, &grad_x, &grad_weight}, x.dtype(), "causal_dconv backward");
    const std::int64_t batch = x.size(0), time = x.size(1), channels = x.size(2);
    const T* px = x.data<T>();
    const T* pw = weight.data<T>();
    const T* pdy = grad_y.data<T>();
    T* pdx = grad_x.data<T>();
#pragma omp parallel for collapse(2) schedule(static)
    for (std::int64_t b = 0; b < batch; ++b) {
      for (std::int64_t t = 0; t < time; ++t) {
        const T* dy = pdy + (b * time + t) * channels;
        T* dx = pdx + (b * time + t) * channels;
        for (std::int64_t c = 0; c < channels; ++c) {
          S acc = S(pw[c]) * S(dy[c]);
          if (t + 1 < time) acc += S(pw[channels + c]) * S(dy[c + channels]);
          if (t + 2 < time) acc += S(pw[2 * channels + c]) * S(dy[c + 2 * channels]);
          dx[c] = static_cast<T>(acc);
        }
      }
    }
    // The taps' gradients in one pass over the rows: per column block, each tap's sum runs over the rows
    // in order, in double, as column_reduce does, so the result does not depend on the thread count.
    constexpr std::int64_t kBlock = 32;
    const std::int64_t rows = batch * time;
    const std::int64_t blocks = (channels + kBlock - 1) / kBlock;
    T* pdw = grad_weight.data<T>();
#pragma omp parallel for schedule(static)
    for (std::int64_t block = 0; block < blocks; ++block) {
      const std::int64_t begin = block * kBlock;
      const std::int64_t width = std::min(kBlock, channels - begin);
      std::array<std::array<double, kBlock>, kTaps> sums{};
      for (std::int64_t n = 0; n < rows; ++n) {
        const std::int64_t taps = std::min<std::int64_t>(kTaps, n % time + 1);
        const T* dy = pdy + n * channels + begin;
        for (std::int64_t tap = 0; tap < taps; ++tap) {
          const T* xs = px + (n - tap) * channels + begin;
          for (std::int64_t j = 0; j < width; ++j)
            sums[static_cast<std::size_t>(tap)][static_cast<std::size_t>(j)] +=
                static_cast<double>(S(dy[j]) * S(xs[j]));
        }
      }
      for (std::int64_t tap = 0; tap < kTaps; ++tap) {
        for (std::int64_t j = 0; j < width; ++j)
          pdw[tap * channels + begin + j] =
              static_cast<T>(sums[static_cast<std::size_t>(tap)][static_cast<std::size_t>(j)]);
      }
    }
  });
}

}  // namespace primer::cpu
