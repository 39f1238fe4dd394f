#include "primer/ops/linear.h"

#include "ops/activation/activation_formulas.h"
#include "primer/autograd/record.h"
#include "primer/backend/backend.h"
#include "primer/backend/op_profiler.h"
#include "primer/ops/activation.h"
#include "primer/ops/matmul_precision.h"

namespace primer::ops {
namespace {

// a b (+ bias), written as out_dtype (oneDNN accumulates in f32 whatever the operands).
Tensor matrix_product(const Tensor& a, const Tensor& b, DType out_dtype, const Tensor& bias = Tensor()) {
  Shape shape = a.shape();
  shape.back() = b.size(-1);
  Tensor out = Tensor::empty(shape, out_dtype, a.device());
  matmul_into(a, b, bias, out);
  return out;
}

Tensor t(const Tensor& x) {
  return x.transpose(-1, -2);
}

Tensor flatten_rows(const Tensor& x) {
  return x.reshape({-1, x.size(-1)});
}

}  // namespace

Variable matmul(const Variable& a, const Variable& b) {
  const ProfileScope profile("matmul", a.device());
  const Tensor av = a.value();
  const Tensor bv = b.value();
  PRIMER_CHECK(av.dim() >= b.value().dim(), "matmul: a {} has fewer dimensions than b {}", av.describe(),
               bv.describe());
  return record(matrix_product(av, bv, av.dtype()), "matmul", {a, b}, [av, bv](const Tensor& g) {
    const Tensor grad_a = matrix_product(g, t(bv), av.dtype());
    // A 2-D b shared across a's batch collects its gradient over every row of the batch.
    const Tensor grad_b = bv.dim() < av.dim()
                              ? matrix_product(t(flatten_rows(av)), flatten_rows(g), bv.dtype())
                              : matrix_product(t(av), g, bv.dtype());
    return std::vector<Tensor>{grad_a, grad_b};
  });
}

namespace {

// linear, and linear_activation when activation is set: then the product's epilogue applies it, and
// backward takes the activation's gradient from the saved output.
Variable linear_product(const char* name, const Variable& x, const Variable& weight, const Variable& bias,
                        std::optional<Activation> activation, LinearOutput output) {
  const ProfileScope profile(name, x.device());
  const Tensor w = weight.value();
  PRIMER_CHECK(w.dim() == 2 && x.value().size(-1) == w.size(1), "{}: x {} does not fit weight {} ([out, in])",
               name, x.value().describe(), w.describe());
  // Under a bf16 matmul precision the products read bf16 copies (saved for backward at half the
  // memory) and write f32, except an output for the next product (an activation's is one): that product
  // reads it in bf16 anyway, so it is written in bf16, and so is its gradient, which that product's
  // backward writes and this one's products read. A bf16 x returns to an f32 weight's dtype.
  const DType compute = x.dtype() == DType::f32 ? matmul_precision() : x.dtype();
  const DType result = output == LinearOutput::next_product ? compute
                       : x.dtype() == DType::bf16           ? w.dtype()
                                                            : x.dtype();
  const Tensor x2 = flatten_rows(x.value()).to(compute);
  const Tensor wc = w.to(compute);
  Tensor y2 = Tensor::empty({x2.size(0), w.size(0)}, result, x2.device());
  matmul_into(x2, t(wc), bias.defined() ? bias.value() : Tensor(), y2, ProductWrite::overwrite, activation);
  Shape out_shape = x.shape();
  out_shape.back() = w.size(0);
  return record(y2.view(out_shape), name, {x, weight, bias},
                [x2, wc, compute, x_dtype = x.dtype(), weight_dtype = w.dtype(), x_shape = x.shape(),
                 bias_dtype = bias.defined() ? std::optional<DType>(bias.dtype()) : std::nullopt, activation,
                 activated = activation ? y2 : Tensor()](const Tensor& g) {
                  Tensor g2 = flatten_rows(activation ? g.to(activated.dtype()) : g).contiguous();
                  if (activation) {
                    const Tensor before_activation = Tensor::empty_like(g2);
                    activation_gradient_from_output(*activation, activated, g2, before_activation);
                    g2 = before_activation;
                  }
                  Tensor grad_bias;
                  if (bias_dtype) {
                    grad_bias = Tensor::empty({g2.size(1)}, *bias_dtype, g2.device());
                    backend_for(g2.device()).sum_rows(g2.to(*bias_dtype), grad_bias);
                  }
                  const Tensor gc = g2.to(compute);
                  return std::vector<Tensor>{matrix_product(gc, wc, x_dtype).view(x_shape),
                                             matrix_product(t(gc), x2, weight_dtype), grad_bias};
                });
}

}  // namespace

Variable linear(const Variable& x, const Variable& weight, const Variable& bias, LinearOutput output) {
  return linear_product("linear", x, weight, bias, std::nullopt, output);
}

Variable linear_activation(const Variable& x, const Variable& weight, const Variable& bias,
                           Activation activation) {
  PRIMER_CHECK(has_derivative_from_output(activation),
               "linear_activation: activation {} cannot be recovered from its output; use linear, then "
               "activation",
               static_cast<int>(activation));
  return linear_product("linear_activation", x, weight, bias, activation, LinearOutput::next_product);
}

}  // namespace primer::ops
