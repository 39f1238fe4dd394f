#pragma once
// Mixed precision for matrix products, as torch.autocast does it: inside a MatmulPrecisionScope of bf16,
// linear() multiplies bf16 copies of its f32 operands with f32 accumulation and f32 results (oneDNN's
// bf16 path, twice the f32 rate on CPUs with AVX512-BF16 or AMX). Weights, gradients, optimizer state,
// norms, softmax and the loss stay f32. The choice is made when an op runs forward; its backward follows.
#include "primer/tensor/dtype.h"

namespace primer::ops {

// f32 unless a scope says otherwise (this thread only).
DType matmul_precision();

class MatmulPrecisionScope {
 public:
  explicit MatmulPrecisionScope(DType precision);
  ~MatmulPrecisionScope();
  MatmulPrecisionScope(const MatmulPrecisionScope&) = delete;
  MatmulPrecisionScope& operator=(const MatmulPrecisionScope&) = delete;

 private:
  DType previous_;
};

}  // namespace primer::ops
