// Multi-DConv-Head Attention's causal depthwise convolution of width 3 along time.
#include <algorithm>
#include <vector>

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
    // One pass: each row's input gradient, and its terms of the taps' gradients (kTaps sums of
    // [channels]) while the rows are in cache. A chunk's terms are summed in S, then added to its
    // double sums once: a widening and a double add per term took as long as the rest of the pass.
    std::vector<double> totals(static_cast<std::size_t>(kTaps * channels));
    column_sums_by_row_chunks(batch * time, kTaps * channels, totals.data(),
                              [&](std::int64_t begin, std::int64_t end, double* sums) {
                                std::vector<S> chunk_sums(static_cast<std::size_t>(kTaps * channels), S(0));
                                for (std::int64_t n = begin; n < end; ++n) {
                                  const std::int64_t t = n % time;
                                  const T* dy = pdy + n * channels;
                                  T* dx = pdx + n * channels;
                                  const std::int64_t later =
                                      std::min<std::int64_t>(kTaps, time - t);  // rows t, t+1, t+2 that exist
#pragma omp simd
                                  for (std::int64_t c = 0; c < channels; ++c) {
                                    S acc = S(pw[c]) * S(dy[c]);
                                    if (later > 1) acc += S(pw[channels + c]) * S(dy[c + channels]);
                                    if (later > 2) acc += S(pw[2 * channels + c]) * S(dy[c + 2 * channels]);
                                    dx[c] = static_cast<T>(acc);
                                  }
                                  const std::int64_t taps = std::min<std::int64_t>(kTaps, t + 1);
                                  for (std::int64_t tap = 0; tap < taps; ++tap) {
                                    const T* xs = px + (n - tap) * channels;
                                    S* tap_sums = chunk_sums.data() + tap * channels;
#pragma omp simd
                                    for (std::int64_t c = 0; c < channels; ++c)
                                      tap_sums[c] += S(dy[c]) * S(xs[c]);
                                  }
                                }
                                for (std::size_t i = 0; i < chunk_sums.size(); ++i)
                                  sums[i] += static_cast<double>(chunk_sums[i]);
                              });
    T* pdw = grad_weight.data<T>();
    for (std::int64_t i = 0; i < kTaps * channels; ++i)
      pdw[i] = static_cast<T>(totals[static_cast<std::size_t>(i)]);
  });
}

}  // namespace primer::cpu
