#include "primer/ops/activation.h"

#include "ops/activation/activation_formulas.h"
#include "ops/activation/activation_kernels.h"
#include "primer/autograd/record.h"
#include "primer/backend/kernel_table.h"
#include "primer/backend/op_profiler.h"

namespace primer::ops {
namespace {

const KernelTable<ActivationForward*> activation_forward_kernels =
    PRIMER_KERNEL_TABLE("activation", activation_forward);
const KernelTable<ActivationBackward*> activation_backward_kernels =
    PRIMER_KERNEL_TABLE("activation backward", activation_backward);
const KernelTable<ActivationBackwardFromOutput*> from_output_kernels =
    PRIMER_KERNEL_TABLE("activation backward", activation_backward_from_output);
const KernelTable<SwigluForward*> swiglu_forward_kernels = PRIMER_KERNEL_TABLE("swiglu", swiglu_forward);
const KernelTable<SwigluBackward*> swiglu_backward_kernels =
    PRIMER_KERNEL_TABLE("swiglu backward", swiglu_backward);

}  // namespace

Variable activation(Activation kind, const Variable& x) {
  const ProfileScope profile("activation", x.device());
  const Tensor xv = x.value().contiguous();
  Tensor y = Tensor::empty_like(xv);
  activation_forward_kernels.at(xv.device())(kind, xv, y);
  return record(y, "activation", {x}, [kind, xv](const Tensor& g) {
    Tensor grad_x = Tensor::empty_like(xv);
    activation_backward_kernels.at(xv.device())(kind, xv, g.contiguous(), grad_x);
    return std::vector<Tensor>{grad_x};
  });
}

void activation_gradient_from_output(Activation kind, const Tensor& y, const Tensor& grad_y,
                                     const Tensor& grad_x) {
  PRIMER_CHECK(has_derivative_from_output(kind), "activation {}: its output does not give its derivative",
               static_cast<int>(kind));
  check_same_shape(y, grad_y, "activation backward");
  check_same_shape(y, grad_x, "activation backward");
  from_output_kernels.at(y.device())(kind, y, grad_y, grad_x);
}

Variable swiglu(const Variable& gate, const Variable& up) {
  const ProfileScope profile("swiglu", gate.device());
  const Tensor gv = gate.value().contiguous();
  const Tensor uv = up.value().contiguous();
  check_same_shape(gv, uv, "swiglu");
  PRIMER_CHECK(gv.dtype() == uv.dtype(), "swiglu: gate {} and up {} differ in dtype", gv.describe(),
               uv.describe());
  Tensor y = Tensor::empty_like(gv);
  swiglu_forward_kernels.at(gv.device())(gv, uv, y);
  return record(y, "swiglu", {gate, up}, [gv, uv](const Tensor& g) {
    Tensor grad_gate = Tensor::empty_like(gv);
    Tensor grad_up = Tensor::empty_like(uv);
    swiglu_backward_kernels.at(gv.device())(gv, uv, g.to(gv.dtype()).contiguous(), grad_gate, grad_up);
    return std::vector<Tensor>{grad_gate, grad_up};
  });
}

}  // namespace primer::ops
