#include <cstdint>

#include "backend/cuda/cuda_kernel_support.h"
#include "ops/attention/attention.cuh"
#include "ops/attention/attention_kernels.h"
#include "ops/causal_dconv/causal_dconv_kernels.h"

namespace primer::cuda {
namespace {

// The shapes are attention.cpp's to check; the kernel adds its own limit on the head size.
kernels::AttentionShape attention_shape(const Tensor& q, const Tensor& k, const char* op) {
  PRIMER_CHECK(q.size(3) <= 256, "{}: head_dim {} exceeds the CUDA kernel's 256", op, q.size(3));
  return {q.size(0), q.size(1), k.size(1), q.size(2), q.size(3)};
}

// The most dynamic shared memory one block may opt in to on the current device.
std::size_t device_shared_memory_limit() {
  static const std::size_t limit = [] {
    int device = 0, bytes = 0;
    PRIMER_CUDA_CHECK(cudaGetDevice(&device));
    PRIMER_CUDA_CHECK(cudaDeviceGetAttribute(&bytes, cudaDevAttrMaxSharedMemoryPerBlockOptin, device));
    return static_cast<std::size_t>(bytes);
  }();
  return limit;
}

// Under bf16 products the tensor-core kernels run when they take the head size, their shared memory fits
// the device, and the rows can be read as float4 (a tensor that starts inside an allocation, a view, may
// not be 16-byte aligned). Otherwise the exact f32 kernels run, which take the same lse.
bool on_tensor_cores(DType precision, const kernels::AttentionShape& shape, bool backward,
                     std::initializer_list<const Tensor*> rows) {
  if (precision != DType::bf16) return false;
  const std::size_t shared_bytes = kernels::flash_attention_shared_bytes(shape, backward);
  if (shared_bytes == 0 || shared_bytes > device_shared_memory_limit()) return false;
  for (const Tensor* tensor : rows) {
    if (reinterpret_cast<std::uintptr_t>(tensor->data_ptr()) % 16 != 0) return false;
  }
  return true;
}

kernels::RelativeBiasTable bias_table(const ops::AttentionBias& bias, const char* op) {
  if (!bias.defined()) return {nullptr, nullptr, 0};
  return {f32(bias.table, op, "bias table"), indices(bias.distance_buckets, op, "distance buckets"),
          bias.table.size(0)};
}

// [B, T, H, D] as the convolution's [B, T, H * D].
Tensor channels_last(const Tensor& t) {
  return t.reshape({t.size(0), t.size(1), t.size(2) * t.size(3)});
}

// The convolutions run as their own kernels, before attention and after its backward: correct, with the
// convolved tensors on the device for the op's duration (the CPU convolves a head at a time in cache).
Tensor convolved(const Tensor& x, const Tensor& taps) {
  const Tensor y = Tensor::empty_like(x);
  causal_dconv_forward(channels_last(x), taps, channels_last(y));
  return y;
}

}  // namespace

void attention_forward(const Tensor& q, const Tensor& k, const Tensor& v,
                       const ops::AttentionConvolutions& convolutions, const ops::AttentionBias& bias,
                       double scale, DType precision, const Tensor& out, const Tensor& lse) {
  if (convolutions.defined()) {
    attention_forward(convolved(q, convolutions.q), convolved(k, convolutions.k),
                      convolved(v, convolutions.v), {}, bias, scale, precision, out, lse);
    return;
  }
  const char* op = "attention";
  const kernels::AttentionShape shape = attention_shape(q, k, op);
  const auto launch = on_tensor_cores(precision, shape, false, {&q, &k, &v, &out})
                          ? kernels::flash_attention_forward
                          : kernels::attention_forward;
  // The buckets are checked once, here (a bad one raises at the next sync); backward reads the same ones.
  if (bias.defined()) {
    PRIMER_CUDA_CHECK(kernels::check_distance_buckets(bias_table(bias, op), shape.k_time,
                                                      cuda_backend().fault_record(), stream()));
  }
  PRIMER_CUDA_CHECK(launch(f32(q, op, "q"), f32(k, op, "k"), f32(v, op, "v"), bias_table(bias, op),
                           static_cast<float>(scale), shape, f32(out, op, "out"), f32(lse, op, "lse"),
                           stream()));
}

void attention_backward(const Tensor& grad_out, const Tensor& q, const Tensor& k, const Tensor& v,
                        const ops::AttentionConvolutions& convolutions, const ops::AttentionBias& bias,
                        double scale, DType precision, const Tensor& out, const Tensor& lse,
                        const Tensor& grad_q, const Tensor& grad_k, const Tensor& grad_v,
                        const ops::AttentionConvolutions& grad_convolutions, const Tensor& grad_table) {
  if (convolutions.defined()) {
    const Tensor grad_qc = Tensor::empty_like(grad_q), grad_kc = Tensor::empty_like(grad_k),
                 grad_vc = Tensor::empty_like(grad_v);
    attention_backward(grad_out, convolved(q, convolutions.q), convolved(k, convolutions.k),
                       convolved(v, convolutions.v), {}, bias, scale, precision, out, lse, grad_qc, grad_kc,
                       grad_vc, {}, grad_table);
    causal_dconv_backward(channels_last(grad_qc), channels_last(q), convolutions.q, channels_last(grad_q),
                          grad_convolutions.q);
    causal_dconv_backward(channels_last(grad_kc), channels_last(k), convolutions.k, channels_last(grad_k),
                          grad_convolutions.k);
    causal_dconv_backward(channels_last(grad_vc), channels_last(v), convolutions.v, channels_last(grad_v),
                          grad_convolutions.v);
    return;
  }
  const char* op = "attention backward";
  const kernels::AttentionShape shape = attention_shape(q, k, op);
  const bool tensor_cores =
      on_tensor_cores(precision, shape, true, {&grad_out, &q, &k, &v, &out, &grad_q, &grad_k, &grad_v});
  const auto launch = tensor_cores ? kernels::flash_attention_backward : kernels::attention_backward;
  const Tensor delta = cuda_backend().scratch(shape.batch * shape.heads * shape.q_time, DType::f32);
  const std::int64_t partial_rows = kernels::relative_bias_partial_rows(shape, tensor_cores);
  Tensor distance_partials;
  if (bias.defined()) {
    distance_partials = cuda_backend().scratch(partial_rows * shape.heads * shape.k_time, DType::f32);
    cuda_backend().fill(distance_partials, 0.0);
  }
  PRIMER_CUDA_CHECK(launch(f32(grad_out, op, "grad_out"), f32(q, op, "q"), f32(k, op, "k"), f32(v, op, "v"),
                           bias_table(bias, op), static_cast<float>(scale), f32(out, op, "out"),
                           f32(lse, op, "lse"), shape, f32(delta, op, "delta"), f32(grad_q, op, "grad_q"),
                           f32(grad_k, op, "grad_k"), f32(grad_v, op, "grad_v"),
                           f32_or_null(distance_partials, op, "distance partials"), stream()));
  if (!bias.defined()) return;
  const Tensor scratch = cuda_backend().scratch(kernels::relative_bias_gradient_scratch(shape), DType::f32);
  PRIMER_CUDA_CHECK(kernels::relative_bias_table_gradient(
      f32(distance_partials, op, "distance partials"), partial_rows, shape,
      indices(bias.distance_buckets, op, "distance buckets"), bias.table.size(0), f32(scratch, op, "scratch"),
      f32(grad_table, op, "grad_table"), stream()));
}

}  // namespace primer::cuda
