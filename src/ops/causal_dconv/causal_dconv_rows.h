#pragma once
// The causal width-3 depthwise convolution over one run of rows that sit `stride` apart (a head's rows
// of a [B, T, H * D] tensor): forward into a contiguous copy, backward in place, for kernels that convolve
// a head at a time while it is in cache (CPU attention's in-kernel convolutions). Tap 0 is the current
// position, as in causal_dconv.
#include <Eigen/Core>

#include <algorithm>
#include <cstdint>
#include <type_traits>

namespace primer::cpu {

// The convolution of one head's rows over time, `lanes` channels at a time (a vector register's worth, or
// one for the channels left over), each row's values loaded once: the rows a step needs from before or
// after the current one ride along in registers. Tap 0 is the current position, as in causal_dconv.
template <class T, int Lanes>
struct ChannelLanes {
  using Values = std::conditional_t<Lanes == 1, T, Eigen::Array<T, Lanes, 1>>;
  static Values load(const T* p) {
    if constexpr (Lanes == 1) {
      return *p;
    } else {
      return Eigen::Map<const Values>(p);
    }
  }
  static void store(T* p, const Values& v) {
    if constexpr (Lanes == 1) {
      *p = v;
    } else {
      Eigen::Map<Values> target(p);
      target = v;
    }
  }
  static Values zero() {
    if constexpr (Lanes == 1) {
      return T(0);
    } else {
      return Values::Zero();
    }
  }
  // Row t of rows `stride` apart at p, or zeros outside [0, time): a choice of address, not of value, which
  // GCC would pass through the stack in halves, stalling the load that reads it back.
  static Values row(const T* p, std::int64_t t, std::int64_t time, std::int64_t stride) {
    static constexpr T kZeros[Lanes] = {};
    return load(t >= 0 && t < time ? p + t * stride : kZeros);
  }
};

// A vector register of f32 under AVX2 (two of f64): three taps, their sums and the neighbouring rows fit
// the sixteen registers.
constexpr int kChannelLanes = 8;
constexpr std::int64_t kConvolutionTaps = 3;
// Rows a block: each channel group walks a block of rows, then the next group the same block, so the
// lines of a block's rows (a head's rows are `stride` apart, which maps them to few L1 sets) are still in
// L1 for the next group (walking all of a head's rows per group, every row load missed L1).
constexpr std::int64_t kBlockRows = 16;

// Calls body(first row, end row) over blocks of kBlockRows, and within each block body's
// group(std::integral_constant<int, lanes>, first channel) over a head's `dim` channels: the caller's body
// gets (begin, end, for_each_group) and calls for_each_group(group).
template <class Body>
void for_each_row_block(std::int64_t time, std::int64_t dim, Body&& body) {
  for (std::int64_t begin = 0; begin < time; begin += kBlockRows) {
    body(begin, std::min(time, begin + kBlockRows), [dim](auto&& group) {
      std::int64_t e = 0;
      for (; e + kChannelLanes <= dim; e += kChannelLanes)
        group(std::integral_constant<int, kChannelLanes>{}, e);
      for (; e < dim; ++e) group(std::integral_constant<int, 1>{}, e);
    });
  }
}

// Asks for rows [begin, end) of a head's rows `stride` apart (`dim` values each) ahead of their block:
// rows a kilobyte or more apart, a block's worth at a time, are a pattern the hardware's prefetchers
// catch late.
template <class T>
void prefetch_rows(const T* rows, std::int64_t begin, std::int64_t end, std::int64_t dim,
                   std::int64_t stride) {
  constexpr std::int64_t kLine = 64 / sizeof(T);
  for (std::int64_t t = begin; t < end; ++t) {
    for (std::int64_t e = 0; e < dim; e += kLine) __builtin_prefetch(rows + t * stride + e);
  }
}

// out[t] = taps[0] x[t] + taps[1] x[t - 1] + taps[2] x[t - 2] for one head: x's rows `stride` apart, out's
// `dim` apart, taps' rows `stride` apart starting at the head's first channel.
template <class T>
void convolve_head(const T* x, std::int64_t time, std::int64_t dim, std::int64_t stride, const T* taps,
                   T* out) {
  prefetch_rows(x, 0, std::min(time, kBlockRows), dim, stride);
  for_each_row_block(time, dim, [&](std::int64_t begin, std::int64_t end, auto&& for_each_group) {
    prefetch_rows(x, end, std::min(time, end + kBlockRows), dim, stride);
    for_each_group([&](auto lanes, std::int64_t e) {
      using V = ChannelLanes<T, decltype(lanes)::value>;
      const auto now = V::load(taps + e), one_back = V::load(taps + stride + e),
                 two_back = V::load(taps + 2 * stride + e);
      auto previous = V::row(x + e, begin - 1, time, stride),
           before_previous = V::row(x + e, begin - 2, time, stride);
      for (std::int64_t t = begin; t < end; ++t) {
        const auto current = V::load(x + t * stride + e);
        V::store(out + t * dim + e, now * current + one_back * previous + two_back * before_previous);
        before_previous = previous;
        previous = current;
      }
    });
  });
}

// The convolution's backward for one head, in place: grad's rows (the convolved rows' gradients, `stride`
// apart) become the input's, taps[0] g[t] + taps[1] g[t + 1] + taps[2] g[t + 2], from the rows' original
// values, which ride along in registers (a block reads the two rows after it before the next block
// overwrites them); the taps' gradient terms g[t] x[t - tap] are summed in T over chunks of 64 rows in
// chunk_sums [3, dim] and then into sums [3, dim] in double, as causal_dconv's backward sums them.
template <class T>
void convolve_head_backward(T* grad, const T* x, std::int64_t time, std::int64_t dim, std::int64_t stride,
                            const T* taps, T* chunk_sums, double* sums) {
  constexpr std::int64_t kChunkRows = 64;
  static_assert(kChunkRows % kBlockRows == 0);
  std::fill(chunk_sums, chunk_sums + kConvolutionTaps * dim, T(0));
  prefetch_rows(x, 0, std::min(time, kBlockRows), dim, stride);
  prefetch_rows(grad, 0, std::min(time, kBlockRows + 2), dim, stride);
  for_each_row_block(time, dim, [&](std::int64_t begin, std::int64_t end, auto&& for_each_group) {
    prefetch_rows(x, end, std::min(time, end + kBlockRows), dim, stride);
    prefetch_rows(grad, end + 2, std::min(time, end + kBlockRows + 2), dim, stride);
    for_each_group([&](auto lanes, std::int64_t e) {
      using V = ChannelLanes<T, decltype(lanes)::value>;
      const auto now = V::load(taps + e), one_back = V::load(taps + stride + e),
                 two_back = V::load(taps + 2 * stride + e);
      auto current = V::row(grad + e, begin, time, stride), next = V::row(grad + e, begin + 1, time, stride),
           after_next = V::row(grad + e, begin + 2, time, stride);
      auto previous_x = V::row(x + e, begin - 1, time, stride),
           before_previous_x = V::row(x + e, begin - 2, time, stride);
      auto sum_now = V::load(chunk_sums + e), sum_one_back = V::load(chunk_sums + dim + e),
           sum_two_back = V::load(chunk_sums + 2 * dim + e);
      for (std::int64_t t = begin; t < end; ++t) {
        const auto current_x = V::load(x + t * stride + e);
        sum_now += current * current_x;
        sum_one_back += current * previous_x;
        sum_two_back += current * before_previous_x;
        V::store(grad + t * stride + e, now * current + one_back * next + two_back * after_next);
        before_previous_x = previous_x;
        previous_x = current_x;
        current = next;
        next = after_next;
        after_next = V::row(grad + e, t + 3, time, stride);
      }
      V::store(chunk_sums + e, sum_now);
      V::store(chunk_sums + dim + e, sum_one_back);
      V::store(chunk_sums + 2 * dim + e, sum_two_back);
    });
    if (end % kChunkRows != 0 && end != time) return;
    for (std::int64_t i = 0; i < kConvolutionTaps * dim; ++i) {
      sums[i] += static_cast<double>(chunk_sums[i]);
      chunk_sums[i] = T(0);
    }
  });
}

}  // namespace primer::cpu
