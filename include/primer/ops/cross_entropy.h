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

// The vocabulary projection and the cross-entropy as one op: cross_entropy(x weight^T, targets), with
// x: [N, d] rows and weight: [V, d] (PyTorch's linear layout, no bias). The [N, V] logits exist one chunk of
// chunk_rows rows at a time (0: about 32M logits a chunk), never whole. When gradients are recorded, a
// chunk's gradients for x and weight are made as soon as its logits are, as Liger's fused linear
// cross-entropy does, so backward only scales them by the seed: the same products as linear followed by
// cross_entropy, in the memory of one chunk's logits instead of N V logits and their gradient.
// The targets ([N] i32, negative = ignored) may lie on any device: they are counted on the host, where a
// target at or beyond V is an error. Products follow matmul_precision() as linear's do.
Variable linear_cross_entropy(const Variable& x, const Variable& weight, const Tensor& targets,
                              double z_loss = 0.0, double* z_part = nullptr, std::int64_t chunk_rows = 0);

}  // namespace primer::ops
