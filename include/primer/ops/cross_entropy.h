#pragma once
// Fused softmax cross-entropy over the vocabulary, with the optional z-loss of Mesh-TF/PaLM.
#include "primer/autograd/variable.h"

namespace primer::ops {

// logits: [N, V]; targets: i32 [N], negative entries ignored. Returns the mean over counted rows of
// (logsumexp - logit[target] + z_loss * logsumexp^2), one element, f32 (f64 for f64 logits).
// When z_part is given it receives the z-loss term of the result, so that the cross-entropy itself can
// be reported apart (it reads the log-sum-exps back to the host).
Variable cross_entropy(const Variable& logits, const Tensor& targets, double z_loss = 0.0,
                       double* z_part = nullptr);

}  // namespace primer::ops
