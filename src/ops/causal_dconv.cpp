#include "primer/ops/causal_dconv.h"

#include "primer/autograd/record.h"
#include "primer/backend/backend.h"
#include "primer/backend/op_profiler.h"

namespace primer::ops {

Variable causal_dconv(const Variable& x, const Variable& weight) {
  const ProfileScope profile("causal_dconv", x.device());
  const Tensor xv = x.value().contiguous();
  const Tensor wv = weight.value().contiguous();
  Tensor y = Tensor::empty_like(xv);
  backend_for(xv.device()).causal_dconv_forward(xv, wv, y);
  return record(y, "causal_dconv", {x, weight}, [xv, wv](const Tensor& g) {
    Tensor grad_x = Tensor::empty_like(xv);
    Tensor grad_w = Tensor::empty_like(wv);
    backend_for(xv.device()).causal_dconv_backward(g.contiguous(), xv, wv, grad_x, grad_w);
    return std::vector<Tensor>{grad_x, grad_w};
  });
}

}  // namespace primer::ops
