// Token embedding: a row gather forward, a scatter-add backward.
#include "backend/cpu/kernel_support.h"
#include "ops/embedding/embedding_kernels.h"

namespace primer::cpu {
namespace {

void check_ids(const Tensor& ids, std::int64_t vocab, const char* op) {
  check_operand(ids, DType::i32, op, "ids");
  const std::int32_t* p = ids.data<std::int32_t>();
  for (std::int64_t i = 0; i < ids.numel(); ++i) {
    PRIMER_CHECK(p[i] >= 0 && p[i] < vocab, "{}: id {} at position {} is outside the table's {} rows", op,
                 p[i], i, vocab);
  }
}

}  // namespace

void embedding_forward(const Tensor& table, const Tensor& ids, const Tensor& out) {
  check_ids(ids, table.size(0), "embedding");
  dispatch_floating(table.dtype(), "embedding", [&](auto tag) {
    using T = decltype(tag);
    check_operand(table, table.dtype(), "embedding", "table");
    check_operand(out, table.dtype(), "embedding", "out");
    const std::int64_t width = table.size(1);
    const std::int32_t* id = ids.data<std::int32_t>();
    const T* rows = table.data<T>();
    T* po = out.data<T>();
#pragma omp parallel for schedule(static)
    for (std::int64_t i = 0; i < ids.numel(); ++i) {
      std::copy_n(rows + static_cast<std::int64_t>(id[i]) * width, width, po + i * width);
    }
  });
}

void embedding_backward(const Tensor& grad_out, const Tensor& ids, const Tensor& grad_table) {
  check_ids(ids, grad_table.size(0), "embedding backward");
  dispatch_floating(grad_table.dtype(), "embedding backward", [&](auto tag) {
    using T = decltype(tag);
    using C = compute_type<T>;
    check_operand(grad_out, grad_table.dtype(), "embedding backward", "grad_out");
    check_operand(grad_table, grad_table.dtype(), "embedding backward", "grad_table");
    const std::int64_t width = grad_table.size(1);
    const std::int32_t* id = ids.data<std::int32_t>();
    const T* g = grad_out.data<T>();
    T* table = grad_table.data<T>();
    // Threads own disjoint column ranges, so repeated ids never race and the sum order is fixed.
#pragma omp parallel
    {
      const int threads = omp_get_num_threads();
      const int thread = omp_get_thread_num();
      const std::int64_t begin = width * thread / threads;
      const std::int64_t end = width * (thread + 1) / threads;
      for (std::int64_t i = 0; i < ids.numel(); ++i) {
        T* row = table + static_cast<std::int64_t>(id[i]) * width;
        const T* src = g + i * width;
        for (std::int64_t c = begin; c < end; ++c) row[c] = static_cast<T>(C(row[c]) + C(src[c]));
      }
    }
  });
}

}  // namespace primer::cpu
