// Optimizer updates: AdamW (PyTorch's definition) and Adafactor (Mesh-TF's, as the Primer paper ran it).
#include <cmath>
#include <vector>

#include "backend/cpu/cpu_backend.h"
#include "backend/cpu/kernel_support.h"

namespace primer::cpu {
namespace {

template <class T>
void check_optimizer_operand(const Tensor& t, const Tensor& param, const char* op, const char* name) {
  check_operand(t, param.dtype(), op, name);
  PRIMER_CHECK(t.shape() == param.shape(), "{}: {} {} must match the parameter {}", op, name, t.describe(),
               param.describe());
}

template <class T>
double mean_square(const T* x, std::int64_t count) {
  double total = 0.0;
#pragma omp parallel for reduction(+ : total) schedule(static)
  for (std::int64_t i = 0; i < count; ++i) total += static_cast<double>(x[i]) * static_cast<double>(x[i]);
  return count > 0 ? total / static_cast<double>(count) : 0.0;
}

// Master weights and optimizer state are f32 (f64 in tests), never bf16.
template <class Body>
void dispatch_master(const Tensor& param, const char* op, Body&& body) {
  PRIMER_CHECK(param.dtype() == DType::f32 || param.dtype() == DType::f64,
               "{}: parameter {} must be f32 or f64", op, param.describe());
  if (param.dtype() == DType::f32) {
    body(float{});
  } else {
    body(double{});
  }
}

}  // namespace

void CpuBackend::adamw_update(const Tensor& param, const Tensor& grad, const Tensor& m, const Tensor& v,
                              const AdamWStep& step) {
  PRIMER_CHECK(step.step >= 1, "adamw: step {} must start at 1", step.step);
  dispatch_master(param, "adamw", [&](auto tag) {
    using T = decltype(tag);
    check_operand(param, param.dtype(), "adamw", "param");
    check_optimizer_operand<T>(grad, param, "adamw", "grad");
    check_optimizer_operand<T>(m, param, "adamw", "m");
    check_optimizer_operand<T>(v, param, "adamw", "v");
    T* p = param.data<T>();
    const T* g = grad.data<T>();
    T* pm = m.data<T>();
    T* pv = v.data<T>();
    const T beta1 = static_cast<T>(step.beta1), beta2 = static_cast<T>(step.beta2);
    const T lr = static_cast<T>(step.lr), eps = static_cast<T>(step.eps);
    const T decay = static_cast<T>(1.0 - step.lr * step.weight_decay);
    const T correction1 = static_cast<T>(1.0 - std::pow(step.beta1, static_cast<double>(step.step)));
    const T correction2_sqrt =
        static_cast<T>(std::sqrt(1.0 - std::pow(step.beta2, static_cast<double>(step.step))));
    const T step_size = lr / correction1;
    const std::int64_t count = param.numel();
#pragma omp parallel for simd schedule(static)
    for (std::int64_t i = 0; i < count; ++i) {
      pm[i] = beta1 * pm[i] + (T(1) - beta1) * g[i];
      pv[i] = beta2 * pv[i] + (T(1) - beta2) * g[i] * g[i];
      p[i] = p[i] * decay - step_size * pm[i] / (std::sqrt(pv[i]) / correction2_sqrt + eps);
    }
  });
}

void CpuBackend::adafactor_update(const Tensor& param, const Tensor& grad, const Tensor& row_state,
                                  const Tensor& column_state, const Tensor& second_moment,
                                  const AdafactorStep& step) {
  const bool factored = row_state.defined();
  dispatch_master(param, "adafactor", [&](auto tag) {
    using T = decltype(tag);
    check_operand(param, param.dtype(), "adafactor", "param");
    check_optimizer_operand<T>(grad, param, "adafactor", "grad");
    T* p = param.data<T>();
    const T* g = grad.data<T>();
    const std::int64_t count = param.numel();
    const double decay = step.decay;
    std::vector<T> update(static_cast<std::size_t>(count));

    if (factored) {
      const std::int64_t columns = param.size(-1);
      const std::int64_t rows = count / columns;
      PRIMER_CHECK(row_state.numel() == rows && column_state.numel() == columns,
                   "adafactor: factored state {} and {} do not fit parameter {}", row_state.describe(),
                   column_state.describe(), param.describe());
      check_operands({&row_state, &column_state}, param.dtype(), "adafactor");
      T* vr = row_state.data<T>();
      T* vc = column_state.data<T>();
#pragma omp parallel for schedule(static)
      for (std::int64_t r = 0; r < rows; ++r) {
        double total = 0.0;
        for (std::int64_t c = 0; c < columns; ++c) {
          const double gi = static_cast<double>(g[r * columns + c]);
          total += gi * gi + step.epsilon1;
        }
        vr[r] = static_cast<T>(decay * static_cast<double>(vr[r]) +
                               (1.0 - decay) * total / static_cast<double>(columns));
      }
      std::vector<double> column_means(static_cast<std::size_t>(columns));
      column_reduce(rows, columns, column_means.data(), [&](std::int64_t r, std::int64_t c) {
        const double gi = static_cast<double>(g[r * columns + c]);
        return (gi * gi + step.epsilon1) / static_cast<double>(rows);
      });
      for (std::int64_t c = 0; c < columns; ++c) {
        vc[c] = static_cast<T>(decay * static_cast<double>(vc[c]) +
                               (1.0 - decay) * column_means[static_cast<std::size_t>(c)]);
      }
      double row_mean = 0.0;
      for (std::int64_t r = 0; r < rows; ++r) row_mean += static_cast<double>(vr[r]);
      row_mean /= static_cast<double>(rows);
#pragma omp parallel for schedule(static)
      for (std::int64_t r = 0; r < rows; ++r) {
        const double row_factor = 1.0 / std::sqrt(static_cast<double>(vr[r]) / row_mean);
        for (std::int64_t c = 0; c < columns; ++c) {
          update[static_cast<std::size_t>(r * columns + c)] = static_cast<T>(
              static_cast<double>(g[r * columns + c]) * row_factor / std::sqrt(static_cast<double>(vc[c])));
        }
      }
    } else {
      check_optimizer_operand<T>(second_moment, param, "adafactor", "second_moment");
      T* v = second_moment.data<T>();
#pragma omp parallel for schedule(static)
      for (std::int64_t i = 0; i < count; ++i) {
        const double gi = static_cast<double>(g[i]);
        v[i] = static_cast<T>(decay * static_cast<double>(v[i]) + (1.0 - decay) * (gi * gi + step.epsilon1));
        update[static_cast<std::size_t>(i)] = static_cast<T>(gi / std::sqrt(static_cast<double>(v[i])));
      }
    }
    const double clip = std::max(1.0, std::sqrt(mean_square(update.data(), count)) / step.clip_threshold);
    const double scale = step.relative_step ? std::max(step.epsilon2, std::sqrt(mean_square(p, count))) : 1.0;
    const T step_size = static_cast<T>(step.lr * scale / clip);
#pragma omp parallel for simd schedule(static)
    for (std::int64_t i = 0; i < count; ++i) p[i] -= step_size * update[static_cast<std::size_t>(i)];
  });
}

}  // namespace primer::cpu
