#include "backend/cuda/cuda_kernel_support.h"
#include "ops/attention/attention.cuh"
#include "ops/attention/attention_kernels.h"

namespace primer::cuda {
namespace {

// The shapes are attention.cpp's to check; the kernel adds its own limit on the head size.
kernels::AttentionShape attention_shape(const Tensor& q, const Tensor& k, const char* op) {
  PRIMER_CHECK(q.size(3) <= 256, "{}: head_dim {} exceeds the CUDA kernel's 256", op, q.size(3));
  return {q.size(0), q.size(1), k.size(1), q.size(2), q.size(3)};
}

}  // namespace

void attention_forward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& bias, double scale,
                       const Tensor& out, const Tensor& lse) {
  const char* op = "attention";
  PRIMER_CUDA_CHECK(kernels::attention_forward(f32(q, op, "q"), f32(k, op, "k"), f32(v, op, "v"),
                                               f32_or_null(bias, op, "bias"), static_cast<float>(scale),
                                               attention_shape(q, k, op), f32(out, op, "out"),
                                               f32(lse, op, "lse"), stream()));
}

void attention_backward(const Tensor& grad_out, const Tensor& q, const Tensor& k, const Tensor& v,
                        const Tensor& bias, double scale, const Tensor& out, const Tensor& lse,
                        const Tensor& grad_q, const Tensor& grad_k, const Tensor& grad_v,
                        const Tensor& grad_bias) {
  const char* op = "attention backward";
  const kernels::AttentionShape shape = attention_shape(q, k, op);
  const Tensor delta = cuda_backend().scratch(shape.batch * shape.heads * shape.q_time, DType::f32);
  if (grad_bias.defined()) cuda_backend().fill(grad_bias, 0.0);
  PRIMER_CUDA_CHECK(kernels::attention_backward(
      f32(grad_out, op, "grad_out"), f32(q, op, "q"), f32(k, op, "k"), f32(v, op, "v"),
      f32_or_null(bias, op, "bias"), static_cast<float>(scale), f32(out, op, "out"), f32(lse, op, "lse"),
      shape, f32(delta, op, "delta"), f32(grad_q, op, "grad_q"), f32(grad_k, op, "grad_k"),
      f32(grad_v, op, "grad_v"), f32_or_null(grad_bias, op, "grad_bias"), stream()));
}

}  // namespace primer::cuda
