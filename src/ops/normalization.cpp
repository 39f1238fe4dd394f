#include "primer/ops/normalization.h"

#include "primer/autograd/record.h"
#include "primer/backend/backend.h"
#include "primer/backend/op_profiler.h"

namespace primer::ops {
namespace {

Tensor row_stats(const Tensor& x) {
  return Tensor::empty({x.numel() / x.size(-1)}, stats_dtype(x.dtype()), x.device());
}

}  // namespace

Variable layer_norm(const Variable& x, const Variable& gamma, const Variable& beta, double eps) {
  const ProfileScope profile("layer_norm", x.device());
  const Tensor xv = x.value().contiguous();
  const Tensor gv = gamma.value();
  const Tensor bv = beta.defined() ? beta.value() : Tensor();
  Tensor y = Tensor::empty_like(xv);
  Tensor mean = row_stats(xv);
  Tensor rstd = row_stats(xv);
  backend_for(xv.device()).layer_norm_forward(xv, gv, bv, eps, y, mean, rstd);
  return record(y, "layer_norm", {x, gamma, beta},
                [xv, gv, mean, rstd, has_beta = bv.defined()](const Tensor& g) {
                  Tensor grad_x = Tensor::empty_like(xv);
                  Tensor grad_gamma = Tensor::empty_like(gv);
                  Tensor grad_beta = has_beta ? Tensor::empty_like(gv) : Tensor();
                  backend_for(xv.device())
                      .layer_norm_backward(g.contiguous(), xv, gv, mean, rstd, grad_x, grad_gamma, grad_beta);
                  return std::vector<Tensor>{grad_x, grad_gamma, grad_beta};
                });
}

Variable rms_norm(const Variable& x, const Variable& gamma, double eps) {
  const ProfileScope profile("rms_norm", x.device());
  const Tensor xv = x.value().contiguous();
  const Tensor gv = gamma.value();
  Tensor y = Tensor::empty_like(xv);
  Tensor rstd = row_stats(xv);
  backend_for(xv.device()).rms_norm_forward(xv, gv, eps, y, rstd);
  return record(y, "rms_norm", {x, gamma}, [xv, gv, rstd](const Tensor& g) {
    Tensor grad_x = Tensor::empty_like(xv);
    Tensor grad_gamma = Tensor::empty_like(gv);
    backend_for(xv.device()).rms_norm_backward(g.contiguous(), xv, gv, rstd, grad_x, grad_gamma);
    return std::vector<Tensor>{grad_x, grad_gamma};
  });
}

}  // namespace primer::ops
