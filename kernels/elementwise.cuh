#pragma once
// f32 elementwise arithmetic: out = alpha a + beta b (out may alias either), scaling (by a host or a
// device factor), products.
#include "common.cuh"

namespace primer::kernels {

cudaError_t add_scaled(const float* a, float alpha, const float* b, float beta, float* out,
                       std::int64_t count, cudaStream_t stream);
cudaError_t scale(const float* x, float factor, float* out, std::int64_t count, cudaStream_t stream);
// factor: one float in device memory, read by every thread (never copied to the host).
cudaError_t scale_by(const float* x, const float* factor, float* out, std::int64_t count,
                     cudaStream_t stream);
cudaError_t multiply(const float* a, const float* b, float* out, std::int64_t count, cudaStream_t stream);

}  // namespace primer::kernels
