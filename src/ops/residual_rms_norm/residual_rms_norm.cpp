#include "primer/ops/residual_rms_norm.h"

#include "ops/normalization/normalization_kernels.h"
#include "ops/residual_rms_norm/residual_rms_norm_kernels.h"
#include "primer/autograd/record.h"
#include "primer/backend/kernel_table.h"
#include "primer/backend/op_profiler.h"
#include "primer/backend/stats_dtype.h"

namespace primer::ops {
namespace {

const KernelTable<ResidualRmsNormForward*> forward_kernels =
    PRIMER_KERNEL_TABLE("residual_rms_norm", residual_rms_norm_forward);

}  // namespace

ResidualNorm residual_rms_norm(const Variable& x, const Variable& residual, const Variable& gamma,
                               double eps) {
  const ProfileScope profile("residual_rms_norm", x.device());
  const Tensor xv = x.value().contiguous();
  const Tensor rv = residual.value().contiguous();
  const Tensor gv = gamma.value();
  check_same_shape(xv, rv, "residual_rms_norm");
  PRIMER_CHECK(xv.dim() >= 1 && gv.dim() == 1 && gv.size(0) == xv.size(-1),
               "residual_rms_norm: gamma {} must match the last dimension of x {}", gv.describe(),
               xv.describe());
  Tensor sum = Tensor::empty_like(xv);
  Tensor y = Tensor::empty_like(xv);
  Tensor rstd = Tensor::empty({xv.numel() / xv.size(-1)}, stats_dtype(xv.dtype()), xv.device());
  forward_kernels.at(xv.device())(xv, rv, gv, eps, sum, y, rstd);
  const Variable summed = record(sum, "residual_add", {x, residual}, [](const Tensor& g) {
    return std::vector<Tensor>{g, g};
  });
  const Variable normalized = record(y, "rms_norm", {summed, gamma}, [sum, gv, rstd](const Tensor& g) {
    Tensor grad_sum = Tensor::empty_like(sum);
    Tensor grad_gamma = Tensor::empty_like(gv);
    rms_norm_backward_kernels.at(sum.device())(g.contiguous(), sum, gv, rstd, grad_sum, grad_gamma);
    return std::vector<Tensor>{grad_sum, grad_gamma};
  });
  return {summed, normalized};
}

}  // namespace primer::ops
