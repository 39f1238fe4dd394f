#pragma once
// oneDNN's matmul over strided batches of matrices, for the CPU's matmul op (attention's small per-head
// products go through backend/cpu/small_product.h instead). oneDNN picks its kernels for the CPU at run
// time (AVX2, AVX-512, AMX), which code compiled for x86-64-v3 cannot. Primitives are cached by shapes,
// strides, dtypes and whether the product is added to out, so a training loop creates each once. Call it
// outside OpenMP parallel regions: oneDNN spreads every product over all threads itself.
#include <cstdint>
#include <optional>
#include <vector>

#include "primer/ops/activation_kind.h"
#include "primer/tensor/dtype.h"

namespace primer::cpu {

// Matrices [batch..., rows, columns] (2 to 5 dimensions, the same count for every operand of one product),
// strides in elements; a batch dimension of size 1 with stride 0 broadcasts.
struct StridedMatrices {
  void* data;
  DType dtype;
  std::vector<std::int64_t> dims;
  std::vector<std::int64_t> strides;
};

// out = a b (+ bias, [1..., 1, columns]), or out += that when accumulate; with an activation, out =
// activation(a b + bias), applied by the GEMM as it writes each tile (a oneDNN post-op; not with
// accumulate). f32 and bf16 operands; out f32 or the operands' dtype.
void onednn_matmul(const StridedMatrices& a, const StridedMatrices& b, const StridedMatrices* bias,
                   const StridedMatrices& out, bool accumulate,
                   std::optional<Activation> activation = std::nullopt);

}  // namespace primer::cpu
