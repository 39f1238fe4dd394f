#pragma once
// Pointwise activations (ReLU, squared ReLU, tanh-GELU, SiLU) and SwiGLU, forward and backward.
#include "common.cuh"
#include "primer/ops/activation_kind.h"

namespace primer::kernels {

cudaError_t activation_forward(Activation kind, const float* x, float* y, std::int64_t count,
                               cudaStream_t stream);
cudaError_t activation_backward(Activation kind, const float* x, const float* grad_y, float* grad_x,
                                std::int64_t count, cudaStream_t stream);
// values = activation(values) for f32 or bf16 values (computed in f32): a product's epilogue.
cudaError_t activation_in_place(Activation kind, ElementType type, void* values, std::int64_t count,
                                cudaStream_t stream);
// grad_x = grad_y * the derivative written in the output y (relu, squared_relu), all three f32 or all bf16
// (computed in f32); grad_x may be grad_y.
cudaError_t activation_backward_from_output(Activation kind, ElementType type, const void* y,
                                            const void* grad_y, void* grad_x, std::int64_t count,
                                            cudaStream_t stream);
// y = silu(gate) * up, and its backward; every operand f32 or every one bf16 (computed in f32).
cudaError_t swiglu_forward(ElementType type, const void* gate, const void* up, void* y, std::int64_t count,
                           cudaStream_t stream);
cudaError_t swiglu_backward(ElementType type, const void* gate, const void* up, const void* grad_y,
                            void* grad_gate, void* grad_up, std::int64_t count, cudaStream_t stream);

}  // namespace primer::kernels
