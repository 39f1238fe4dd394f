#include <fmt/format.h>

#include "ops/matmul/matmul_kernels.h"
#include "primer/backend/kernel_table.h"
#include "primer/ops/linear.h"

namespace primer::ops {
namespace {

const KernelTable<MatmulKernel*> matmul_kernels = PRIMER_KERNEL_TABLE("matmul", matmul);

void check_matmul_operands(const Tensor& a, const Tensor& b, const Tensor& bias, const Tensor& out) {
  PRIMER_CHECK((a.dim() == 2 || a.dim() == 3) && (b.dim() == 2 || b.dim() == 3) && b.dim() <= a.dim() &&
                   a.size(-1) == b.size(-2) && (b.dim() == 2 || a.size(0) == b.size(0)),
               "matmul: a {} and b {} do not multiply", a.describe(), b.describe());
  // out must hold exactly the product: a 2-D out for a 3-D a would be written past its end.
  PRIMER_CHECK(out.is_contiguous() && out.dim() == a.dim() && out.size(-2) == a.size(-2) &&
                   out.size(-1) == b.size(-1) && (a.dim() == 2 || out.size(0) == a.size(0)),
               "matmul: out {} must be a contiguous [{}{}, {}]", out.describe(),
               a.dim() == 3 ? fmt::format("{}, ", a.size(0)) : "", a.size(-2), b.size(-1));
  PRIMER_CHECK(!bias.defined() || (bias.dim() == 1 && bias.size(0) == b.size(-1)),
               "matmul: bias {} must be [{}]", bias.describe(), b.size(-1));
  PRIMER_CHECK(a.dtype() == b.dtype(), "matmul: a {} and b {} must share a dtype", a.describe(),
               b.describe());
  // f64 (the gradient checks) stays f64; f32 and bf16 products accumulate in f32 and may write either.
  const bool f64 = a.dtype() == DType::f64;
  PRIMER_CHECK(f64 ? out.dtype() == DType::f64 && (!bias.defined() || bias.dtype() == DType::f64)
                   : out.dtype() == DType::f32 || out.dtype() == a.dtype(),
               "matmul: out {} and bias {} do not fit operands of {}", out.describe(), bias.describe(),
               dtype_name(a.dtype()));
  for (const Tensor* t : {&b, &out, &bias}) {
    PRIMER_CHECK(!t->defined() || t->device() == a.device(), "matmul: {} is not on a's device ({})",
                 t->describe(), a.device().name());
  }
}

}  // namespace

void matmul_into(const Tensor& a, const Tensor& b, const Tensor& bias, const Tensor& out, ProductWrite write,
                 std::optional<Activation> activation) {
  check_matmul_operands(a, b, bias, out);
  PRIMER_CHECK(!activation || write == ProductWrite::overwrite,
               "matmul: an activation cannot follow a product added to out");
  matmul_kernels.at(a.device())(a, b, bias, out, write == ProductWrite::accumulate, activation);
}

}  // namespace primer::ops
