#pragma once
// f32 elementwise arithmetic: out = alpha a + beta b (out may alias either), scaling, products.
#include "common.cuh"

namespace primer::kernels {

cudaError_t add_scaled(const float* a, float alpha, const float* b, float beta, float* out,
                       std::int64_t count, cudaStream_t stream);
cudaError_t scale(const float* x, float factor, float* out, std::int64_t count, cudaStream_t stream);
cudaError_t multiply(const float* a, const float* b, float* out, std::int64_t count, cudaStream_t stream);

}  // namespace primer::kernels
