#include "backend/cpu/kernel_support.h"
#include "ops/normalization/rms_norm_row.h"
#include "ops/residual_rms_norm/residual_rms_norm_kernels.h"

namespace primer::cpu {

// Row by row: the sum is rounded to T before it is normalised, so the result equals rms_norm(x + residual).
void residual_rms_norm_forward(const Tensor& x, const Tensor& residual, const Tensor& gamma, double eps,
                               const Tensor& sum, const Tensor& y, const Tensor& rstd) {
  dispatch_floating(x.dtype(), "residual_rms_norm", [&](auto tag) {
    using T = decltype(tag);
    check_operands({&x, &residual, &gamma, &sum, &y}, x.dtype(), "residual_rms_norm");
    using S = compute_type<T>;
    using Stat = stats_type<T>;
    const std::int64_t width = x.size(-1);
    const std::int64_t rows = x.numel() / width;
    const T* px = x.data<T>();
    const T* pr = residual.data<T>();
    const T* pg = gamma.data<T>();
    T* ps = sum.data<T>();
    T* py = y.data<T>();
    Stat* pstd = rstd.data<Stat>();
#pragma omp parallel for schedule(static)
    for (std::int64_t n = 0; n < rows; ++n) {
      T* row = ps + n * width;
      for (std::int64_t c = 0; c < width; ++c)
        row[c] = static_cast<T>(S(px[n * width + c]) + S(pr[n * width + c]));
      pstd[n] = static_cast<Stat>(rms_norm_row(row, pg, width, eps, py + n * width));
    }
  });
}

}  // namespace primer::cpu
