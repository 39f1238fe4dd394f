#include "primer/ops/activation.h"

#include "primer/autograd/record.h"
#include "primer/backend/backend.h"
#include "primer/backend/op_profiler.h"

namespace primer::ops {

Variable activation(Activation kind, const Variable& x) {
  const ProfileScope profile("activation", x.device());
  const Tensor xv = x.value().contiguous();
  Tensor y = Tensor::empty_like(xv);
  backend_for(xv.device()).activation_forward(kind, xv, y);
  return record(y, "activation", {x}, [kind, xv](const Tensor& g) {
    Tensor grad_x = Tensor::empty_like(xv);
    backend_for(xv.device()).activation_backward(kind, xv, g.contiguous(), grad_x);
    return std::vector<Tensor>{grad_x};
  });
}

Variable swiglu(const Variable& gate, const Variable& up) {
  const ProfileScope profile("swiglu", gate.device());
  const Tensor gv = gate.value().contiguous();
  const Tensor uv = up.value().contiguous();
  Tensor y = Tensor::empty_like(gv);
  backend_for(gv.device()).swiglu_forward(gv, uv, y);
  return record(y, "swiglu", {gate, up}, [gv, uv](const Tensor& g) {
    Tensor grad_gate = Tensor::empty_like(gv);
    Tensor grad_up = Tensor::empty_like(uv);
    backend_for(gv.device()).swiglu_backward(gv, uv, g.contiguous(), grad_gate, grad_up);
    return std::vector<Tensor>{grad_gate, grad_up};
  });
}

}  // namespace primer::ops
