#include <vector>

#include "backend/cpu/kernel_support.h"
#include "optim/adafactor/adafactor_kernels.h"
#include "optim/master_weights.h"

namespace primer::cpu {
namespace {

template <class T>
double mean_square(const T* x, std::int64_t count) {
  double total = 0.0;
#pragma omp parallel for reduction(+ : total) schedule(static)
  for (std::int64_t i = 0; i < count; ++i) total += static_cast<double>(x[i]) * static_cast<double>(x[i]);
  return count > 0 ? total / static_cast<double>(count) : 0.0;
}

}  // namespace

void adafactor_update(const Tensor& param, const Tensor& grad, const Tensor& row_state,
                      const Tensor& column_state, const Tensor& second_moment,
                      const optim::AdafactorStep& step) {
  const bool factored = row_state.defined();
  dispatch_master(param, "adafactor", [&](auto tag) {
    using T = decltype(tag);
    check_operands({&param, &grad, &row_state, &column_state, &second_moment}, param.dtype(), "adafactor");
    T* p = param.data<T>();
    const T* g = grad.data<T>();
    const std::int64_t count = param.numel();
    const double decay = step.decay;
    std::vector<T> update(static_cast<std::size_t>(count));

    if (factored) {
      const std::int64_t columns = param.size(-1);
      const std::int64_t rows = count / columns;
      T* vr = row_state.data<T>();
      T* vc = column_state.data<T>();
#pragma omp parallel for schedule(static)
      for (std::int64_t r = 0; r < rows; ++r) {
        double total = 0.0;
        for (std::int64_t c = 0; c < columns; ++c) {
          const double gi = static_cast<double>(g[r * columns + c]);
          total += gi * gi + step.epsilon1;
        }
        vr[r] = static_cast<T>(
            optim::adafactor_moment(decay, static_cast<double>(vr[r]), total / static_cast<double>(columns)));
      }
      std::vector<double> column_means(static_cast<std::size_t>(columns));
      column_reduce(rows, columns, column_means.data(), [&](std::int64_t r, std::int64_t c) {
        const double gi = static_cast<double>(g[r * columns + c]);
        return (gi * gi + step.epsilon1) / static_cast<double>(rows);
      });
      for (std::int64_t c = 0; c < columns; ++c) {
        vc[c] = static_cast<T>(optim::adafactor_moment(decay, static_cast<double>(vc[c]),
                                                       column_means[static_cast<std::size_t>(c)]));
      }
      double row_mean = 0.0;
      for (std::int64_t r = 0; r < rows; ++r) row_mean += static_cast<double>(vr[r]);
      row_mean /= static_cast<double>(rows);
#pragma omp parallel for schedule(static)
      for (std::int64_t r = 0; r < rows; ++r) {
        for (std::int64_t c = 0; c < columns; ++c) {
          update[static_cast<std::size_t>(r * columns + c)] = static_cast<T>(optim::adafactor_factored_update(
              static_cast<double>(g[r * columns + c]), static_cast<double>(vr[r]), row_mean,
              static_cast<double>(vc[c])));
        }
      }
    } else {
      T* v = second_moment.data<T>();
#pragma omp parallel for schedule(static)
      for (std::int64_t i = 0; i < count; ++i) {
        const double gi = static_cast<double>(g[i]);
        v[i] = static_cast<T>(
            optim::adafactor_moment(decay, static_cast<double>(v[i]), gi * gi + step.epsilon1));
        update[static_cast<std::size_t>(i)] = static_cast<T>(gi / std::sqrt(static_cast<double>(v[i])));
      }
    }
    const T step_size = static_cast<T>(
        optim::adafactor_step_size(step, mean_square(update.data(), count), mean_square(p, count)));
#pragma omp parallel for simd schedule(static)
    for (std::int64_t i = 0; i < count; ++i) p[i] -= step_size * update[static_cast<std::size_t>(i)];
  });
}

}  // namespace primer::cpu
