#include "primer/ops/linear.h"

#include "primer/autograd/record.h"
#include "primer/backend/backend.h"
#include "primer/backend/op_profiler.h"
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

Variable linear(const Variable& x, const Variable& weight, const Variable& bias) {
  const ProfileScope profile("linear", x.device());
  const Tensor w = weight.value();
  PRIMER_CHECK(w.dim() == 2 && x.value().size(-1) == w.size(1),
               "linear: x {} does not fit weight {} ([out, in])", x.value().describe(), w.describe());
  // Under a bf16 matmul precision the products read bf16 copies (saved for backward at half the
  // memory) and write f32.
  const DType compute = x.dtype() == DType::f32 ? matmul_precision() : x.dtype();
  const DType result = x.dtype();
  const Tensor x2 = flatten_rows(x.value()).to(compute);
  const Tensor wc = w.to(compute);
  Shape out_shape = x.shape();
  out_shape.back() = w.size(0);
  const Tensor y =
      matrix_product(x2, t(wc), result, bias.defined() ? bias.value() : Tensor()).view(out_shape);
  return record(y, "linear", {x, weight, bias},
                [x2, wc, compute, result, weight_dtype = w.dtype(), x_shape = x.shape(),
                 has_bias = bias.defined()](const Tensor& g) {
                  const Tensor g2 = flatten_rows(g);
                  Tensor grad_bias;
                  if (has_bias) {
                    grad_bias = Tensor::empty({g2.size(1)}, g2.dtype(), g2.device());
                    backend_for(g2.device()).sum_rows(g2, grad_bias);
                  }
                  const Tensor gc = g2.to(compute);
                  return std::vector<Tensor>{matrix_product(gc, wc, result).view(x_shape),
                                             matrix_product(t(gc), x2, weight_dtype), grad_bias};
                });
}

}  // namespace primer::ops
