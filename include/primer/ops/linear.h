#pragma once
// Matrix products. linear follows PyTorch's layout: weight [out, in], y = x weight^T + bias.
#include <optional>

#include "primer/autograd/variable.h"
#include "primer/ops/activation_kind.h"

namespace primer::ops {

// a: [M, K] or [B, M, K]; b: [K, N] or [B, K, N] (a 2-D b is shared across a's batch).
Variable matmul(const Variable& a, const Variable& b);
// x: [..., in]; weight: [out, in]; bias: [out] or undefined. Returns [..., out].
Variable linear(const Variable& x, const Variable& weight, const Variable& bias = Variable());
// activation(linear(x, weight, bias)) for relu and squared_relu, whose derivative their output gives:
// the activation runs as the product is written (the CPU's oneDNN post-ops), and only the output is
// kept for backward, not the pre-activation as well.
Variable linear_activation(const Variable& x, const Variable& weight, const Variable& bias,
                           Activation activation);

enum class ProductWrite { overwrite, accumulate };

// The product kernel itself, for callers that own the output (the fused LM head, benchmarks, the MFU
// probe): out = a b (+ bias over rows), or out += that with ProductWrite::accumulate, summed by the GEMM
// itself (no second pass over out); matmul's shapes; out is contiguous, f32 or a's dtype (f64 for f64).
// With an activation (overwrite only), out = activation(a b + bias).
void matmul_into(const Tensor& a, const Tensor& b, const Tensor& bias, const Tensor& out,
                 ProductWrite write = ProductWrite::overwrite,
                 std::optional<Activation> activation = std::nullopt);

}  // namespace primer::ops
