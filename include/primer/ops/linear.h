#pragma once
// Matrix products. linear follows PyTorch's layout: weight [out, in], y = x weight^T + bias.
#include <optional>

#include "primer/autograd/variable.h"
#include "primer/ops/activation_kind.h"

namespace primer::ops {

// a: [M, K] or [B, M, K]; b: [K, N] or [B, K, N] (a 2-D b is shared across a's batch).
Variable matmul(const Variable& a, const Variable& b);
// Who reads a linear's output. Under bf16 products, an output read by anything is written in x's dtype
// (f32 for an f32 x), but one whose only reader is the next product, through an elementwise op at most
// (SwiGLU's gate and up), is written in bf16, as PyTorch's autocast keeps it: that product reads it as it
// is instead of an f32 copy converted again, and the gradient coming back stays bf16 as well.
enum class LinearOutput { any_reader, next_product };

// x: [..., in]; weight: [out, in]; bias: [out] or undefined. Returns [..., out].
Variable linear(const Variable& x, const Variable& weight, const Variable& bias = Variable(),
                LinearOutput output = LinearOutput::any_reader);
// activation(linear(x, weight, bias)) for relu and squared_relu, whose derivative their output gives:
// the activation runs as the product is written (the CPU's oneDNN post-ops), and only the output is
// kept for backward, not the pre-activation as well. Its output goes to the next product
// (LinearOutput::next_product).
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
