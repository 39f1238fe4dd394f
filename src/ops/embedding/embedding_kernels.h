#pragma once
// The embedding's kernels, defined once per device (embedding_cpu.cpp, embedding_cuda.cpp); embedding.cpp
// checks the shapes. table, grad_table: [V, C]; ids: i32, any shape; out, grad_out: ids.shape + [C].
// Backward accumulates into grad_table. An id outside [0, V) is an error on either device.
#include "primer/backend/kernel_table.h"
#include "primer/tensor/tensor.h"

namespace primer::ops {

using EmbeddingForward = void(const Tensor& table, const Tensor& ids, const Tensor& out);
using EmbeddingBackward = void(const Tensor& grad_out, const Tensor& ids, const Tensor& grad_table);

}  // namespace primer::ops

namespace primer {

PRIMER_DECLARE_KERNEL(ops::EmbeddingForward, embedding_forward)
PRIMER_DECLARE_KERNEL(ops::EmbeddingBackward, embedding_backward)

}  // namespace primer
