#include "primer/ops/cross_entropy.h"

#include "ops/cross_entropy/cross_entropy_kernels.h"
#include "primer/autograd/record.h"
#include "primer/backend/kernel_table.h"
#include "primer/backend/op_profiler.h"
#include "primer/backend/stats_dtype.h"

namespace primer::ops {

const KernelTable<CrossEntropyForward*> cross_entropy_forward_kernels =
    PRIMER_KERNEL_TABLE("cross_entropy", cross_entropy_forward);
const KernelTable<CrossEntropyBackward*> cross_entropy_backward_kernels =
    PRIMER_KERNEL_TABLE("cross_entropy backward", cross_entropy_backward);
const KernelTable<CrossEntropyWithGradient*> cross_entropy_with_gradient_kernels =
    PRIMER_KERNEL_TABLE("cross_entropy with gradient", cross_entropy_with_gradient);

double mean_z_term(const Tensor& lse, const Tensor& targets, double z_loss) {
  if (z_loss == 0.0) return 0.0;
  const std::vector<double> row_lse = lse.to(Device::cpu()).to(DType::f64).to_vector<double>();
  const std::vector<std::int32_t> row_targets = targets.to(Device::cpu()).to_vector<std::int32_t>();
  double total = 0.0;
  std::int64_t counted = 0;
  for (std::size_t n = 0; n < row_lse.size(); ++n) {
    if (row_targets[n] < 0) continue;
    total += row_lse[n] * row_lse[n];
    ++counted;
  }
  return counted > 0 ? z_loss * total / static_cast<double>(counted) : 0.0;
}

Variable cross_entropy(const Variable& logits, const Tensor& targets, double z_loss, double* z_part) {
  const ProfileScope profile("cross_entropy", logits.device());
  const Tensor lv = logits.value().contiguous();
  const Tensor tv = targets.contiguous();
  PRIMER_CHECK(lv.dim() == 2 && tv.dim() == 1 && tv.size(0) == lv.size(0),
               "cross_entropy: logits {} must be [N, V] and targets {} [N]", lv.describe(), tv.describe());
  PRIMER_CHECK(tv.dtype() == DType::i32 && tv.device() == lv.device(),
               "cross_entropy: targets {} must be i32 on the logits' device ({})", tv.describe(),
               lv.describe());
  const DType stats = stats_dtype(lv.dtype());
  Tensor loss = Tensor::empty({1}, stats, lv.device());
  Tensor lse = Tensor::empty({lv.size(0)}, stats, lv.device());
  cross_entropy_forward_kernels.at(lv.device())(lv, tv, z_loss, loss, lse);
  if (z_part != nullptr) *z_part = mean_z_term(lse, tv, z_loss);
  return record(loss, "cross_entropy", {logits}, [lv, tv, lse, z_loss](const Tensor& g) {
    Tensor grad_logits = Tensor::empty_like(lv);
    cross_entropy_backward_kernels.at(lv.device())(g, lv, tv, lse, z_loss, grad_logits);
    return std::vector<Tensor>{grad_logits};
  });
}

}  // namespace primer::ops
