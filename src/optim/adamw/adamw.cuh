#pragma once
// AdamW on f32 master weights, in place, on the GPU (adamw_formulas.h has the arithmetic), up to
// kAdamWListSize parameters a launch (tensor_list.cuh).
#include "common.cuh"
#include "optim/adamw/adamw_formulas.h"
#include "tensor_list.cuh"

namespace primer::kernels {

constexpr int kAdamWListSize = 64;

struct AdamWTensorList {
  BlockSpans<kAdamWListSize, 2048> spans;
  float* param[kAdamWListSize];
  const float* grad[kAdamWListSize];
  float* m[kAdamWListSize];
  float* v[kAdamWListSize];
  float decay[kAdamWListSize];  // AdamWConstants::decay for this parameter
};

// constants.decay is replaced by each parameter's own.
cudaError_t adamw_update(const AdamWTensorList& list, const optim::AdamWConstants<float>& constants,
                         cudaStream_t stream);

}  // namespace primer::kernels
