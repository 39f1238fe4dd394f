#pragma once
// Mixed precision for matrix products, as torch.autocast does it: inside a MatmulPrecisionScope of bf16,
// linear() multiplies bf16 copies of its f32 operands with f32 accumulation and f32 results (oneDNN's
// bf16 path, twice the f32 rate on CPUs with AVX512-BF16 or AMX). Weights, gradients, optimizer state,
// norms, softmax and the loss stay f32. The choice is made when an op runs forward; its backward follows.
#include "primer/tensor/device.h"
#include "primer/tensor/dtype.h"

namespace primer::ops {

// f32 unless a scope says otherwise (this thread only).
DType matmul_precision();

// Whether bf16 products outrun f32 ones on `device`. On CPUs without bf16 GEMMs (AVX2 only, such as
// Zen 2) they are f32 GEMMs over widened operands, with the conversions on top: 0.76x the f32 speed.
bool fast_bf16_products(Device device);

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
