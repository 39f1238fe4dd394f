#include "backend/cuda/cuda_kernel_support.h"
#include "backend/cuda/element_type.h"
#include "ops/activation/activation.cuh"
#include "ops/activation/activation_kernels.h"

namespace primer::cuda {

void activation_forward(Activation kind, const Tensor& x, const Tensor& y) {
  PRIMER_CUDA_CHECK(kernels::activation_forward(kind, f32(x, "activation", "x"), f32(y, "activation", "y"),
                                                x.numel(), stream()));
}

void activation_backward(Activation kind, const Tensor& x, const Tensor& grad_y, const Tensor& grad_x) {
  const char* op = "activation backward";
  PRIMER_CUDA_CHECK(kernels::activation_backward(kind, f32(x, op, "x"), f32(grad_y, op, "grad_y"),
                                                 f32(grad_x, op, "grad_x"), x.numel(), stream()));
}

void activation_backward_from_output(Activation kind, const Tensor& y, const Tensor& grad_y,
                                     const Tensor& grad_x) {
  const char* op = "activation backward";
  const DType dtype = y.dtype();
  PRIMER_CUDA_CHECK(kernels::activation_backward_from_output(
      kind, element_type(dtype), f32_or_bf16(y, dtype, op, "y"), f32_or_bf16(grad_y, dtype, op, "grad_y"),
      f32_or_bf16(grad_x, dtype, op, "grad_x"), y.numel(), stream()));
}

void swiglu_forward(const Tensor& gate, const Tensor& up, const Tensor& y) {
  const char* op = "swiglu";
  const DType dtype = gate.dtype();
  PRIMER_CUDA_CHECK(kernels::swiglu_forward(element_type(dtype), f32_or_bf16(gate, dtype, op, "gate"),
                                            f32_or_bf16(up, dtype, op, "up"), f32_or_bf16(y, dtype, op, "y"),
                                            gate.numel(), stream()));
}

void swiglu_backward(const Tensor& gate, const Tensor& up, const Tensor& grad_y, const Tensor& grad_gate,
                     const Tensor& grad_up) {
  const char* op = "swiglu backward";
  const DType dtype = gate.dtype();
  PRIMER_CUDA_CHECK(kernels::swiglu_backward(
      element_type(dtype), f32_or_bf16(gate, dtype, op, "gate"), f32_or_bf16(up, dtype, op, "up"),
      f32_or_bf16(grad_y, dtype, op, "grad_y"), f32_or_bf16(grad_gate, dtype, op, "grad_gate"),
      f32_or_bf16(grad_up, dtype, op, "grad_up"), gate.numel(), stream()));
}

}  // namespace primer::cuda
