#pragma once
// The matrix product's kernel, defined once per device (matmul_cpu.cpp: oneDNN, Eigen for f64;
// matmul_cuda.cpp: cuBLASLt); matmul.cpp checks the shapes and dtypes. out[i] = a[i] @ b[i] (+ bias
// broadcast over rows), or out[i] += that when accumulate; a: [M, K] or [B, M, K]; b: [K, N] or
// [B, K, N]; out contiguous; a and b may be strided (transposed views are free). With an activation
// (never with accumulate), out = activation(a b + bias), applied as the product is written where the
// device can (oneDNN's post-ops), else by one pass over out.
#include <optional>

#include "primer/backend/kernel_table.h"
#include "primer/ops/activation_kind.h"
#include "primer/tensor/tensor.h"

namespace primer::ops {

using MatmulKernel = void(const Tensor& a, const Tensor& b, const Tensor& bias, const Tensor& out,
                          bool accumulate, std::optional<Activation> activation);

}  // namespace primer::ops

namespace primer {

PRIMER_DECLARE_KERNEL(ops::MatmulKernel, matmul)

namespace cpu {
// Whether oneDNN has a bf16 GEMM on this CPU (under ONEDNN_MAX_CPU_ISA, if set); asked once and logged.
bool native_bf16_gemm();
}  // namespace cpu

}  // namespace primer
