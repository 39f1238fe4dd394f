#include "primer/ops/rotary.h"

#include "ops/rotary/rotary_kernels.h"
#include "primer/autograd/record.h"
#include "primer/backend/kernel_table.h"
#include "primer/backend/op_profiler.h"

namespace primer::ops {
namespace {

const KernelTable<RotaryKernel*> rotary_kernels = PRIMER_KERNEL_TABLE("rotary", rotary);

}  // namespace

Variable rotary(const Variable& x, std::int64_t position_offset, double base) {
  const ProfileScope profile("rotary", x.device());
  const Tensor xv = x.value().contiguous();
  PRIMER_CHECK(xv.dim() == 4 && xv.size(3) % 2 == 0, "rotary: x {} must be [B, T, H, D] with D even",
               xv.describe());
  PRIMER_CHECK(position_offset >= 0, "rotary: negative position offset {}", position_offset);
  Tensor out = Tensor::empty_like(xv);
  rotary_kernels.at(xv.device())(xv, position_offset, base, false, out);
  return record(out, "rotary", {x}, [position_offset, base](const Tensor& g) {
    // A rotation's transpose is the opposite rotation.
    const Tensor gc = g.contiguous();
    Tensor grad_x = Tensor::empty_like(gc);
    rotary_kernels.at(gc.device())(gc, position_offset, base, true, grad_x);
    return std::vector<Tensor>{grad_x};
  });
}

}  // namespace primer::ops
