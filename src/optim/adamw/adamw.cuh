#pragma once
// AdamW on f32 master weights, in place, on the GPU (adamw_formulas.h has the arithmetic).
#include "common.cuh"
#include "optim/adamw/adamw_formulas.h"

namespace primer::kernels {

cudaError_t adamw_update(float* param, const float* grad, float* m, float* v, std::int64_t count,
                         const optim::AdamWConstants<float>& constants, cudaStream_t stream);

}  // namespace primer::kernels
