#include "primer/ops/cross_entropy.h"

#include "primer/autograd/record.h"
#include "primer/backend/backend.h"

namespace primer::ops {

Variable cross_entropy(const Variable& logits, const Tensor& targets, double z_loss) {
  const Tensor lv = logits.value().contiguous();
  const Tensor tv = targets.contiguous();
  PRIMER_CHECK(lv.dim() == 2, "cross_entropy: logits {} must be [N, V]", lv.describe());
  const DType stats = stats_dtype(lv.dtype());
  Tensor loss = Tensor::empty({1}, stats, lv.device());
  Tensor lse = Tensor::empty({lv.size(0)}, stats, lv.device());
  backend_for(lv.device()).cross_entropy_forward(lv, tv, z_loss, loss, lse);
  return record(loss, "cross_entropy", {logits}, [lv, tv, lse, z_loss](const Tensor& g) {
    Tensor grad_logits = Tensor::empty_like(lv);
    backend_for(lv.device()).cross_entropy_backward(g, lv, tv, lse, z_loss, grad_logits);
    return std::vector<Tensor>{grad_logits};
  });
}

}  // namespace primer::ops
