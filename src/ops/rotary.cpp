#include "primer/ops/rotary.h"

#include "primer/autograd/record.h"
#include "primer/backend/backend.h"
#include "primer/backend/op_profiler.h"

namespace primer::ops {

Variable rotary(const Variable& x, std::int64_t position_offset, double base) {
  const ProfileScope profile("rotary", x.device());
  const Tensor xv = x.value().contiguous();
  Tensor out = Tensor::empty_like(xv);
  backend_for(xv.device()).rotary(xv, position_offset, base, false, out);
  return record(out, "rotary", {x}, [position_offset, base](const Tensor& g) {
    // A rotation's transpose is the opposite rotation.
    const Tensor gc = g.contiguous();
    Tensor grad_x = Tensor::empty_like(gc);
    backend_for(gc.device()).rotary(gc, position_offset, base, true, grad_x);
    return std::vector<Tensor>{grad_x};
  });
}

}  // namespace primer::ops
