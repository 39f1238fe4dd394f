#include "primer/ops/causal_dconv.h"

#include "ops/causal_dconv/causal_dconv_kernels.h"
#include "primer/autograd/record.h"
#include "primer/backend/kernel_table.h"
#include "primer/backend/op_profiler.h"

namespace primer::ops {
namespace {

const KernelTable<CausalDconvForward*> forward_kernels =
    PRIMER_KERNEL_TABLE("causal_dconv", causal_dconv_forward);
const KernelTable<CausalDconvBackward*> backward_kernels =
    PRIMER_KERNEL_TABLE("causal_dconv backward", causal_dconv_backward);

}  // namespace

Variable causal_dconv(const Variable& x, const Variable& weight) {
  const ProfileScope profile("causal_dconv", x.device());
  const Tensor xv = x.value().contiguous();
  const Tensor wv = weight.value().contiguous();
  PRIMER_CHECK(xv.dim() == 3 && wv.shape() == Shape({3, xv.size(2)}),
               "causal_dconv: x {} must be [B, T, C] and weight {} [3, C]", xv.describe(), wv.describe());
  Tensor y = Tensor::empty_like(xv);
  forward_kernels.at(xv.device())(xv, wv, y);
  return record(y, "causal_dconv", {x, weight}, [xv, wv](const Tensor& g) {
    Tensor grad_x = Tensor::empty_like(xv);
    Tensor grad_w = Tensor::empty_like(wv);
    backward_kernels.at(xv.device())(g.contiguous(), xv, wv, grad_x, grad_w);
    return std::vector<Tensor>{grad_x, grad_w};
  });
}

}  // namespace primer::ops
