// Softmax cross-entropy over the vocabulary, fused: forward keeps only each row's log-sum-exp, backward
// writes the gradient of the logits directly, so no probability tensor is ever materialised. Exps go
// through vector_math.h (std::exp in a loop stays scalar: about 20x slower), the rest through Eigen arrays.
#include <Eigen/Core>

#include <algorithm>
#include <cmath>
#include <type_traits>
#include <vector>

#include "backend/cpu/bf16_conversion.h"
#include "backend/cpu/kernel_support.h"
#include "backend/cpu/vector_math.h"
#include "ops/cross_entropy/cross_entropy_kernels.h"

namespace primer::cpu {
namespace {

struct Rows {
  std::int64_t count;
  std::int64_t vocab;
  std::int64_t counted;  // rows whose target is not ignored
};

// The targets are read here, on the host: each must lie below the vocabulary size (negative: ignored).
Rows check_targets(const Tensor& logits, const Tensor& targets, const char* op) {
  check_operand(targets, DType::i32, op, "targets");
  const std::int32_t* t = targets.data<std::int32_t>();
  Rows rows{logits.size(0), logits.size(1), 0};
  for (std::int64_t n = 0; n < rows.count; ++n) {
    PRIMER_CHECK(t[n] < rows.vocab, "{}: target {} at row {} is outside the vocabulary of {}", op, t[n], n,
                 rows.vocab);
    if (t[n] >= 0) ++rows.counted;
  }
  return rows;
}

template <class S>
using Row = Eigen::Array<S, Eigen::Dynamic, 1>;

// A row as an array of the compute type: a view of f32/f64 data, or a converted copy of bf16 data.
template <class T, class S = compute_type<T>>
Eigen::Map<const Row<S>> row_values(const T* row, std::int64_t vocab, Row<S>& buffer) {
  if constexpr (std::is_same_v<T, S>) {
    return Eigen::Map<const Row<S>>(row, vocab);
  } else {
    buffer.resize(vocab);
    for (std::int64_t j = 0; j < vocab; ++j) buffer[j] = S(row[j]);
    return Eigen::Map<const Row<S>>(buffer.data(), vocab);
  }
}

}  // namespace

void cross_entropy_forward(const Tensor& logits, const Tensor& targets, double z_loss, const Tensor& loss,
                           const Tensor& lse) {
  const Rows rows = check_targets(logits, targets, "cross_entropy");
  dispatch_floating(logits.dtype(), "cross_entropy", [&](auto tag) {
    using T = decltype(tag);
    using S = compute_type<T>;
    using Stat = stats_type<T>;
    check_operand(logits, logits.dtype(), "cross_entropy", "logits");
    check_operands({&loss, &lse}, stats_dtype(logits.dtype()), "cross_entropy");
    const T* px = logits.data<T>();
    const std::int32_t* pt = targets.data<std::int32_t>();
    Stat* plse = lse.data<Stat>();
    double total = 0.0;
#pragma omp parallel reduction(+ : total)
    {
      Row<S> buffer;
      Row<S> exps(rows.vocab);
#pragma omp for schedule(static)
      for (std::int64_t n = 0; n < rows.count; ++n) {
        const auto x = row_values(px + n * rows.vocab, rows.vocab, buffer);
        const S max = x.maxCoeff();
        const S row_lse = max + std::log(exp_shifted(x.data(), exps.data(), rows.vocab, max));
        plse[n] = static_cast<Stat>(row_lse);
        if (pt[n] >= 0) total += static_cast<double>(row_lse - x[pt[n]] + S(z_loss) * row_lse * row_lse);
      }
    }
    loss.data<Stat>()[0] =
        static_cast<Stat>(rows.counted > 0 ? total / static_cast<double>(rows.counted) : 0.0);
  });
}

void cross_entropy_backward(const Tensor& grad_loss, const Tensor& logits, const Tensor& targets,
                            const Tensor& lse, double z_loss, const Tensor& grad_logits) {
  const Rows rows = check_targets(logits, targets, "cross_entropy backward");
  dispatch_floating(logits.dtype(), "cross_entropy backward", [&](auto tag) {
    using T = decltype(tag);
    using S = compute_type<T>;
    using Stat = stats_type<T>;
    check_operands({&logits, &grad_logits}, logits.dtype(), "cross_entropy backward");
    check_operands({&grad_loss, &lse}, stats_dtype(logits.dtype()), "cross_entropy backward");
    const T* px = logits.data<T>();
    const std::int32_t* pt = targets.data<std::int32_t>();
    const Stat* plse = lse.data<Stat>();
    T* pdx = grad_logits.data<T>();
    const S scale = rows.counted > 0 ? S(grad_loss.data<Stat>()[0]) / S(rows.counted) : S(0);
#pragma omp parallel
    {
      Row<S> buffer;
      Row<S> gradient;
#pragma omp for schedule(static)
      for (std::int64_t n = 0; n < rows.count; ++n) {
        T* out = pdx + n * rows.vocab;
        if (pt[n] < 0) {
          std::fill_n(out, rows.vocab, T(0));
          continue;
        }
        const S row_lse = S(plse[n]);
        const S factor = scale * (S(1) + S(2) * S(z_loss) * row_lse);
        const auto x = row_values(px + n * rows.vocab, rows.vocab, buffer);
        if constexpr (std::is_same_v<T, S>) {
          exp_shifted(x.data(), out, rows.vocab, row_lse);
          Eigen::Map<Row<S>>(out, rows.vocab) *= factor;
        } else {
          gradient.resize(rows.vocab);
          exp_shifted(x.data(), gradient.data(), rows.vocab, row_lse);
          for (std::int64_t j = 0; j < rows.vocab; ++j) out[j] = static_cast<T>(factor * gradient[j]);
        }
        out[pt[n]] = static_cast<T>(S(out[pt[n]]) - scale);
      }
    }
  });
}

void cross_entropy_with_gradient(const Tensor& grad_loss, const Tensor& logits, const Tensor& targets,
                                 double z_loss, const Tensor& loss, const Tensor& lse,
                                 const Tensor& grad_logits) {
  const char* op = "cross_entropy with gradient";
  const Rows rows = check_targets(logits, targets, op);
  PRIMER_CHECK(grad_logits.shape() == logits.shape(), "{}: grad_logits {} must have the logits' shape {}", op,
               grad_logits.describe(), logits.describe());
  dispatch_floating(logits.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    using S = compute_type<T>;
    using Stat = stats_type<T>;
    check_operand(logits, logits.dtype(), op, "logits");
    check_operands({&grad_loss, &loss, &lse}, stats_dtype(logits.dtype()), op);
    dispatch_floating(grad_logits.dtype(), op, [&](auto grad_tag) {
      using G = decltype(grad_tag);
      check_operand(grad_logits, grad_logits.dtype(), op, "grad_logits");
      T* px = logits.data<T>();
      G* pg = grad_logits.data<G>();
      const std::int32_t* pt = targets.data<std::int32_t>();
      Stat* plse = lse.data<Stat>();
      const S scale = rows.counted > 0 ? S(grad_loss.data<Stat>()[0]) / S(rows.counted) : S(0);
      double total = 0.0;
#pragma omp parallel reduction(+ : total)
      {
        Row<S> buffer;
#pragma omp for schedule(static)
        for (std::int64_t n = 0; n < rows.count; ++n) {
          T* row = px + n * rows.vocab;
          G* out = pg + n * rows.vocab;
          // The exps go where the row's values were (a converted copy for bf16), still in cache when the
          // softmax's scale is applied to them and the gradient is written out.
          Eigen::Map<Row<S>> e = [&] {
            if constexpr (std::is_same_v<T, S>) {
              return Eigen::Map<Row<S>>(row, rows.vocab);
            } else {
              buffer.resize(rows.vocab);
              for (std::int64_t j = 0; j < rows.vocab; ++j) buffer[j] = S(row[j]);
              return Eigen::Map<Row<S>>(buffer.data(), rows.vocab);
            }
          }();
          const std::int32_t target = pt[n];
          const S target_logit = target >= 0 ? e[target] : S(0);
          const S max = e.maxCoeff();
          const S sum = exp_shifted(e.data(), e.data(), rows.vocab, max);
          const S row_lse = max + std::log(sum);
          plse[n] = static_cast<Stat>(row_lse);
          if (target < 0) {
            std::fill_n(out, rows.vocab, G(0));
            continue;
          }
          total += static_cast<double>(row_lse - target_logit + S(z_loss) * row_lse * row_lse);
          e *= scale * (S(1) + S(2) * S(z_loss) * row_lse) / sum;
          e[target] -= scale;
          if constexpr (std::is_same_v<G, bfloat16> && std::is_same_v<S, float>) {
            narrow_to_bf16(e.data(), out, rows.vocab);
          } else if constexpr (!std::is_same_v<G, S>) {
            for (std::int64_t j = 0; j < rows.vocab; ++j) out[j] = static_cast<G>(e[j]);
          } else if (out != e.data()) {
            std::copy_n(e.data(), rows.vocab, out);
          }
        }
      }
      loss.data<Stat>()[0] =
          static_cast<Stat>(rows.counted > 0 ? total / static_cast<double>(rows.counted) : 0.0);
    });
  });
}

}  // namespace primer::cpu
