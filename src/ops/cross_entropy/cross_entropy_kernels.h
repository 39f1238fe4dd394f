#pragma once
// The fused softmax cross-entropy's kernels, defined once per device (cross_entropy_cpu.cpp,
// cross_entropy_cuda.cpp); cross_entropy.cpp checks the shapes. logits: [N, V]; targets: [N] i32, negative =
// ignored, V or more an error; loss (one element, stats dtype) = mean over counted rows of
// (lse - logit[target] + z_loss * lse^2); lse: [N]. Backward writes
// grad_logits = grad_loss / count * (softmax * (1 + 2 z_loss lse) - onehot); grad_logits may be logits
// itself (every element is read before it is written, by the same thread). With gradient: both at once,
// for the fused LM head, which has its seed when it runs forward: loss and lse as forward writes them, and
// the gradient written over the logits or into grad_logits of their shape in the logits' dtype or bf16
// (what bf16 products read next), one pass over each row where the CPU would otherwise read the logits
// twice and take every exp twice.
#include "primer/backend/kernel_table.h"
#include "primer/tensor/tensor.h"

namespace primer::ops {

using CrossEntropyForward = void(const Tensor& logits, const Tensor& targets, double z_loss,
                                 const Tensor& loss, const Tensor& lse);
using CrossEntropyBackward = void(const Tensor& grad_loss, const Tensor& logits, const Tensor& targets,
                                  const Tensor& lse, double z_loss, const Tensor& grad_logits);

using CrossEntropyWithGradient = void(const Tensor& grad_loss, const Tensor& logits, const Tensor& targets,
                                      double z_loss, const Tensor& loss, const Tensor& lse,
                                      const Tensor& grad_logits);

extern const KernelTable<CrossEntropyForward*> cross_entropy_forward_kernels;
extern const KernelTable<CrossEntropyWithGradient*> cross_entropy_with_gradient_kernels;
extern const KernelTable<CrossEntropyBackward*> cross_entropy_backward_kernels;

// The z-loss share of a loss, z_loss * mean over counted rows of lse^2, for reporting the cross-entropy
// apart; reads lse and targets back to the host.
double mean_z_term(const Tensor& lse, const Tensor& targets, double z_loss);

}  // namespace primer::ops

namespace primer {

PRIMER_DECLARE_KERNEL(ops::CrossEntropyForward, cross_entropy_forward)
PRIMER_DECLARE_KERNEL(ops::CrossEntropyBackward, cross_entropy_backward)
PRIMER_DECLARE_KERNEL(ops::CrossEntropyWithGradient, cross_entropy_with_gradient)

}  // namespace primer
