#include "primer/ops/normalization.h"

#include "ops/normalization/normalization_kernels.h"
#include "primer/autograd/record.h"
#include "primer/backend/kernel_table.h"
#include "primer/backend/op_profiler.h"
#include "primer/backend/stats_dtype.h"

namespace primer::ops {

const KernelTable<RmsNormBackward*> rms_norm_backward_kernels =
    PRIMER_KERNEL_TABLE("rms_norm backward", rms_norm_backward);

namespace {

const KernelTable<LayerNormForward*> layer_norm_forward_kernels =
    PRIMER_KERNEL_TABLE("layer_norm", layer_norm_forward);
const KernelTable<LayerNormBackward*> layer_norm_backward_kernels =
    PRIMER_KERNEL_TABLE("layer_norm backward", layer_norm_backward);
const KernelTable<RmsNormForward*> rms_norm_forward_kernels =
    PRIMER_KERNEL_TABLE("rms_norm", rms_norm_forward);
void check_norm_shapes(const Tensor& x, const Tensor& gamma, const Tensor& beta, const char* op) {
  PRIMER_CHECK(x.dim() >= 1 && gamma.dim() == 1 && gamma.size(0) == x.size(-1),
               "{}: gamma {} must match the last dimension of x {}", op, gamma.describe(), x.describe());
  PRIMER_CHECK(!beta.defined() || beta.shape() == gamma.shape(), "{}: beta {} must be shaped like gamma {}",
               op, beta.describe(), gamma.describe());
}

Tensor row_stats(const Tensor& x) {
  return Tensor::empty({x.numel() / x.size(-1)}, stats_dtype(x.dtype()), x.device());
}

}  // namespace

Variable layer_norm(const Variable& x, const Variable& gamma, const Variable& beta, double eps) {
  const ProfileScope profile("layer_norm", x.device());
  const Tensor xv = x.value().contiguous();
  const Tensor gv = gamma.value();
  const Tensor bv = beta.defined() ? beta.value() : Tensor();
  check_norm_shapes(xv, gv, bv, "layer_norm");
  Tensor y = Tensor::empty_like(xv);
  Tensor mean = row_stats(xv);
  Tensor rstd = row_stats(xv);
  layer_norm_forward_kernels.at(xv.device())(xv, gv, bv, eps, y, mean, rstd);
  return record(y, "layer_norm", {x, gamma, beta},
                [xv, gv, mean, rstd, has_beta = bv.defined()](const Tensor& g) {
                  Tensor grad_x = Tensor::empty_like(xv);
                  Tensor grad_gamma = Tensor::empty_like(gv);
                  Tensor grad_beta = has_beta ? Tensor::empty_like(gv) : Tensor();
                  layer_norm_backward_kernels.at(xv.device())(g.contiguous(), xv, gv, mean, rstd, grad_x,
                                                              grad_gamma, grad_beta);
                  return std::vector<Tensor>{grad_x, grad_gamma, grad_beta};
                });
}

Variable rms_norm(const Variable& x, const Variable& gamma, double eps) {
  const ProfileScope profile("rms_norm", x.device());
  const Tensor xv = x.value().contiguous();
  const Tensor gv = gamma.value();
  check_norm_shapes(xv, gv, Tensor(), "rms_norm");
  Tensor y = Tensor::empty_like(xv);
  Tensor rstd = row_stats(xv);
  rms_norm_forward_kernels.at(xv.device())(xv, gv, eps, y, rstd);
  return record(y, "rms_norm", {x, gamma}, [xv, gv, rstd](const Tensor& g) {
    Tensor grad_x = Tensor::empty_like(xv);
    Tensor grad_gamma = Tensor::empty_like(gv);
    rms_norm_backward_kernels.at(xv.device())(g.contiguous(), xv, gv, rstd, grad_x, grad_gamma);
    return std::vector<Tensor>{grad_x, grad_gamma};
  });
}

}  // namespace primer::ops
