// Elementwise arithmetic and reductions.
#include "backend/cpu/cpu_backend.h"
#include "backend/cpu/kernel_support.h"

namespace primer::cpu {

void CpuBackend::add_scaled(const Tensor& a, double alpha, const Tensor& b, double beta, const Tensor& out) {
  check_same_shape(a, b, "add_scaled");
  check_same_shape(a, out, "add_scaled");
  dispatch_floating(a.dtype(), "add_scaled", [&](auto tag) {
    using T = decltype(tag);
    using C = compute_type<T>;
    for (const Tensor* operand : {&a, &b, &out}) check_operand(*operand, a.dtype(), "add_scaled", "operand");
    const T* pa = a.data<T>();
    const T* pb = b.data<T>();
    T* po = out.data<T>();
    const C ca = static_cast<C>(alpha);
    const C cb = static_cast<C>(beta);
    const std::int64_t count = a.numel();
#pragma omp parallel for simd schedule(static)
    for (std::int64_t i = 0; i < count; ++i) po[i] = static_cast<T>(ca * C(pa[i]) + cb * C(pb[i]));
  });
}

void CpuBackend::scale(const Tensor& x, double factor, const Tensor& out) {
  check_same_shape(x, out, "scale");
  dispatch_floating(x.dtype(), "scale", [&](auto tag) {
    using T = decltype(tag);
    using C = compute_type<T>;
    check_operand(x, x.dtype(), "scale", "x");
    check_operand(out, x.dtype(), "scale", "out");
    const T* px = x.data<T>();
    T* po = out.data<T>();
    const C c = static_cast<C>(factor);
    const std::int64_t count = x.numel();
#pragma omp parallel for simd schedule(static)
    for (std::int64_t i = 0; i < count; ++i) po[i] = static_cast<T>(c * C(px[i]));
  });
}

void CpuBackend::scale_by(const Tensor& x, const Tensor& factor, const Tensor& out) {
  PRIMER_CHECK(factor.numel() == 1, "scale_by: the factor {} must hold one element", factor.describe());
  dispatch_floating(x.dtype(), "scale_by", [&](auto tag) {
    using T = decltype(tag);
    check_operand(factor, x.dtype(), "scale_by", "factor");
    scale(x, static_cast<double>(factor.data<T>()[0]), out);
  });
}

void CpuBackend::multiply(const Tensor& a, const Tensor& b, const Tensor& out) {
  check_same_shape(a, b, "multiply");
  check_same_shape(a, out, "multiply");
  dispatch_floating(a.dtype(), "multiply", [&](auto tag) {
    using T = decltype(tag);
    using C = compute_type<T>;
    for (const Tensor* operand : {&a, &b, &out}) check_operand(*operand, a.dtype(), "multiply", "operand");
    const T* pa = a.data<T>();
    const T* pb = b.data<T>();
    T* po = out.data<T>();
    const std::int64_t count = a.numel();
#pragma omp parallel for simd schedule(static)
    for (std::int64_t i = 0; i < count; ++i) po[i] = static_cast<T>(C(pa[i]) * C(pb[i]));
  });
}

void CpuBackend::sum(const Tensor& x, const Tensor& out) {
  PRIMER_CHECK(out.numel() == 1, "sum: out must hold one element, got {}", out.describe());
  dispatch_floating(x.dtype(), "sum", [&](auto tag) {
    using T = decltype(tag);
    check_operand(x, x.dtype(), "sum", "x");
    check_operand(out, x.dtype(), "sum", "out");
    const T* px = x.data<T>();
    const std::int64_t count = x.numel();
    double total = 0.0;
#pragma omp parallel for reduction(+ : total) schedule(static)
    for (std::int64_t i = 0; i < count; ++i) total += static_cast<double>(px[i]);
    out.data<T>()[0] = static_cast<T>(total);
  });
}

void CpuBackend::sum_squares(const Tensor& x, const Tensor& out) {
  PRIMER_CHECK(out.numel() == 1, "sum_squares: out must hold one element, got {}", out.describe());
  dispatch_floating(x.dtype(), "sum_squares", [&](auto tag) {
    using T = decltype(tag);
    check_operand(x, x.dtype(), "sum_squares", "x");
    const T* px = x.data<T>();
    const std::int64_t count = x.numel();
    double total = 0.0;
#pragma omp parallel for reduction(+ : total) schedule(static)
    for (std::int64_t i = 0; i < count; ++i) total += static_cast<double>(px[i]) * static_cast<double>(px[i]);
    if (out.dtype() == DType::f64) {
      out.data<double>()[0] = total;
    } else {
      out.data<float>()[0] = static_cast<float>(total);
    }
  });
}

void CpuBackend::sum_rows(const Tensor& x, const Tensor& out) {
  const std::int64_t columns = row_length(x);
  PRIMER_CHECK(out.numel() == columns, "sum_rows: out {} must have {} elements for x {}", out.describe(),
               columns, x.describe());
  dispatch_floating(x.dtype(), "sum_rows", [&](auto tag) {
    using T = decltype(tag);
    check_operand(x, x.dtype(), "sum_rows", "x");
    check_operand(out, x.dtype(), "sum_rows", "out");
    const T* px = x.data<T>();
    column_reduce(x.numel() / columns, columns, out.data<T>(),
                  [&](std::int64_t n, std::int64_t c) { return px[n * columns + c]; });
  });
}

}  // namespace primer::cpu
