// LayerNorm (scale, optional bias) and RMSNorm (scale) over the last dimension.
#include <cmath>

#include "backend/cpu/kernel_support.h"
#include "ops/normalization/normalization_kernels.h"
#include "ops/normalization/rms_norm_row.h"

namespace primer::cpu {
namespace {

// One row of LayerNorm's backward: dx, and the row's terms of gamma's gradient (dy * xhat) and, when
// beta_sums is given, beta's (dy) added into the sums. A function of its own: inside the column-sum
// lambda GCC 12 leaves the `omp simd` reductions scalar.
template <class T, class S = compute_type<T>>
void layer_norm_backward_row(const T* x, const T* dy, const T* gamma, S mu, S inv, std::int64_t width, T* dx,
                             double* gamma_sums, double* beta_sums) {
  S mean_dxhat = 0;
  S mean_dxhat_xhat = 0;
#pragma omp simd reduction(+ : mean_dxhat, mean_dxhat_xhat)
  for (std::int64_t c = 0; c < width; ++c) {
    const S xhat = (S(x[c]) - mu) * inv;
    const S dxhat = S(dy[c]) * S(gamma[c]);
    mean_dxhat += dxhat;
    mean_dxhat_xhat += dxhat * xhat;
  }
  mean_dxhat /= S(width);
  mean_dxhat_xhat /= S(width);
#pragma omp simd
  for (std::int64_t c = 0; c < width; ++c) {
    const S xhat = (S(x[c]) - mu) * inv;
    dx[c] = static_cast<T>(inv * (S(dy[c]) * S(gamma[c]) - mean_dxhat - xhat * mean_dxhat_xhat));
    gamma_sums[c] += static_cast<double>(S(dy[c]) * xhat);
  }
  if (beta_sums != nullptr) {
#pragma omp simd
    for (std::int64_t c = 0; c < width; ++c) beta_sums[c] += static_cast<double>(dy[c]);
  }
}

// The same for RMSNorm (no mean, no beta).
template <class T, class S = compute_type<T>>
void rms_norm_backward_row(const T* x, const T* dy, const T* gamma, S inv, std::int64_t width, T* dx,
                           double* gamma_sums) {
  S mean_dxhat_xhat = 0;
#pragma omp simd reduction(+ : mean_dxhat_xhat)
  for (std::int64_t c = 0; c < width; ++c) mean_dxhat_xhat += S(dy[c]) * S(x[c]) * inv * S(gamma[c]);
  mean_dxhat_xhat /= S(width);
#pragma omp simd
  for (std::int64_t c = 0; c < width; ++c) {
    const S xhat = S(x[c]) * inv;
    dx[c] = static_cast<T>(inv * (S(dy[c]) * S(gamma[c]) - xhat * mean_dxhat_xhat));
    gamma_sums[c] += static_cast<double>(S(dy[c]) * xhat);
  }
}

}  // namespace

void layer_norm_forward(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps, const Tensor& y,
                        const Tensor& mean, const Tensor& rstd) {
  dispatch_floating(x.dtype(), "layer_norm", [&](auto tag) {
    using T = decltype(tag);
    check_operands({&x, &gamma, &beta, &y}, x.dtype(), "layer_norm");
    using S = compute_type<T>;
    using Stat = stats_type<T>;
    const std::int64_t width = x.size(-1);
    const std::int64_t rows = x.numel() / width;
    const T* px = x.data<T>();
    const T* pg = gamma.data<T>();
    const T* pb = beta.defined() ? beta.data<T>() : nullptr;
    T* py = y.data<T>();
    Stat* pm = mean.data<Stat>();
    Stat* pr = rstd.data<Stat>();
#pragma omp parallel for schedule(static)
    for (std::int64_t n = 0; n < rows; ++n) {
      const T* row = px + n * width;
      T* out = py + n * width;
      // Sums across vector lanes (a fixed order for a given width; see rms_norm_row).
      S sum = 0;
#pragma omp simd reduction(+ : sum)
      for (std::int64_t c = 0; c < width; ++c) sum += S(row[c]);
      const S mu = sum / S(width);
      S squares = 0;
#pragma omp simd reduction(+ : squares)
      for (std::int64_t c = 0; c < width; ++c) squares += (S(row[c]) - mu) * (S(row[c]) - mu);
      const S inv = S(1) / std::sqrt(squares / S(width) + S(eps));
      if (pb != nullptr) {
#pragma omp simd
        for (std::int64_t c = 0; c < width; ++c)
          out[c] = static_cast<T>((S(row[c]) - mu) * inv * S(pg[c]) + S(pb[c]));
      } else {
#pragma omp simd
        for (std::int64_t c = 0; c < width; ++c) out[c] = static_cast<T>((S(row[c]) - mu) * inv * S(pg[c]));
      }
      pm[n] = static_cast<Stat>(mu);
      pr[n] = static_cast<Stat>(inv);
    }
  });
}

void layer_norm_backward(const Tensor& grad_y, const Tensor& x, const Tensor& gamma, const Tensor& mean,
                         const Tensor& rstd, const Tensor& grad_x, const Tensor& grad_gamma,
                         const Tensor& grad_beta) {
  dispatch_floating(x.dtype(), "layer_norm backward", [&](auto tag) {
    using T = decltype(tag);
    check_operands({&grad_y, &x, &gamma, &grad_x, &grad_gamma, &grad_beta}, x.dtype(), "layer_norm backward");
    using S = compute_type<T>;
    using Stat = stats_type<T>;
    const std::int64_t width = x.size(-1);
    const std::int64_t rows = x.numel() / width;
    const T* px = x.data<T>();
    const T* pdy = grad_y.data<T>();
    const T* pg = gamma.data<T>();
    const Stat* pm = mean.data<Stat>();
    const Stat* pr = rstd.data<Stat>();
    T* pdx = grad_x.data<T>();
    // One pass: each row's input gradient, and its terms of gamma's and beta's gradients (sums of
    // [width] each) while the row is in cache.
    const bool with_beta = grad_beta.defined();
    const std::int64_t sum_columns = with_beta ? 2 * width : width;
    std::vector<double> totals(static_cast<std::size_t>(sum_columns));
    column_sums_by_row_chunks(
        rows, sum_columns, totals.data(), [&](std::int64_t begin, std::int64_t end, double* sums) {
          for (std::int64_t n = begin; n < end; ++n) {
            layer_norm_backward_row(px + n * width, pdy + n * width, pg, S(pm[n]), S(pr[n]), width,
                                    pdx + n * width, sums, with_beta ? sums + width : nullptr);
          }
        });
    for (std::int64_t c = 0; c < width; ++c) {
      grad_gamma.data<T>()[c] = static_cast<T>(totals[static_cast<std::size_t>(c)]);
      if (with_beta) grad_beta.data<T>()[c] = static_cast<T>(totals[static_cast<std::size_t>(width + c)]);
    }
  });
}

void rms_norm_forward(const Tensor& x, const Tensor& gamma, double eps, const Tensor& y, const Tensor& rstd) {
  dispatch_floating(x.dtype(), "rms_norm", [&](auto tag) {
    using T = decltype(tag);
    check_operands({&x, &gamma, &y}, x.dtype(), "rms_norm");
    using Stat = stats_type<T>;
    const std::int64_t width = x.size(-1);
    const std::int64_t rows = x.numel() / width;
    const T* px = x.data<T>();
    const T* pg = gamma.data<T>();
    T* py = y.data<T>();
    Stat* pr = rstd.data<Stat>();
#pragma omp parallel for schedule(static)
    for (std::int64_t n = 0; n < rows; ++n) {
      pr[n] = static_cast<Stat>(rms_norm_row(px + n * width, pg, width, eps, py + n * width));
    }
  });
}

void rms_norm_backward(const Tensor& grad_y, const Tensor& x, const Tensor& gamma, const Tensor& rstd,
                       const Tensor& grad_x, const Tensor& grad_gamma) {
  dispatch_floating(x.dtype(), "rms_norm backward", [&](auto tag) {
    using T = decltype(tag);
    check_operands({&grad_y, &x, &gamma, &grad_x, &grad_gamma}, x.dtype(), "rms_norm backward");
    using S = compute_type<T>;
    using Stat = stats_type<T>;
    const std::int64_t width = x.size(-1);
    const std::int64_t rows = x.numel() / width;
    const T* px = x.data<T>();
    const T* pdy = grad_y.data<T>();
    const T* pg = gamma.data<T>();
    const Stat* pr = rstd.data<Stat>();
    T* pdx = grad_x.data<T>();
    std::vector<double> totals(static_cast<std::size_t>(width));
    column_sums_by_row_chunks(rows, width, totals.data(),
                              [&](std::int64_t begin, std::int64_t end, double* sums) {
                                for (std::int64_t n = begin; n < end; ++n)
                                  rms_norm_backward_row(px + n * width, pdy + n * width, pg, S(pr[n]), width,
                                                        pdx + n * width, sums);
                              });
    for (std::int64_t c = 0; c < width; ++c)
      grad_gamma.data<T>()[c] = static_cast<T>(totals[static_cast<std::size_t>(c)]);
  });
}

}  // namespace primer::cpu
