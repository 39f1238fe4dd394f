#include "backend/cuda/cuda_kernel_support.h"
#include "ops/embedding/embedding.cuh"
#include "ops/embedding/embedding_kernels.h"

namespace primer::cuda {

void embedding_forward(const Tensor& table, const Tensor& ids, const Tensor& out) {
  const char* op = "embedding";
  PRIMER_CUDA_CHECK(kernels::embedding_forward(f32(table, op, "table"), table.size(0), table.size(1),
                                               indices(ids, op, "ids"), ids.numel(), f32(out, op, "out"),
                                               cuda_backend().fault_record(), stream()));
}

void embedding_backward(const Tensor& grad_out, const Tensor& ids, const Tensor& grad_table) {
  const char* op = "embedding backward";
  PRIMER_CUDA_CHECK(kernels::embedding_backward(
      f32(grad_out, op, "grad_out"), indices(ids, op, "ids"), ids.numel(), grad_table.size(0),
      grad_table.size(1), f32(grad_table, op, "grad_table"), cuda_backend().fault_record(), stream()));
}

}  // namespace primer::cuda
