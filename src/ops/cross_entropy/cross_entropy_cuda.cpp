#include "backend/cuda/cuda_kernel_support.h"
#include "ops/cross_entropy/cross_entropy.cuh"
#include "ops/cross_entropy/cross_entropy_kernels.h"

namespace primer::cuda {

void cross_entropy_forward(const Tensor& logits, const Tensor& targets, double z_loss, const Tensor& loss,
                           const Tensor& lse) {
  const char* op = "cross_entropy";
  const Tensor terms = cuda_backend().scratch(logits.size(0), DType::f32);
  PRIMER_CUDA_CHECK(kernels::cross_entropy_forward(
      f32(logits, op, "logits"), indices(targets, op, "targets"), logits.size(0), logits.size(1),
      static_cast<float>(z_loss), f32(terms, op, "terms"), f32(lse, op, "lse"), f32(loss, op, "loss"),
      cuda_backend().fault_record(), stream()));
}

void cross_entropy_backward(const Tensor& grad_loss, const Tensor& logits, const Tensor& targets,
                            const Tensor& lse, double z_loss, const Tensor& grad_logits) {
  const char* op = "cross_entropy backward";
  const Tensor counted = cuda_backend().scratch(1, DType::f64);  // 8 bytes for the int64 count
  PRIMER_CUDA_CHECK(kernels::cross_entropy_backward(
      f32(grad_loss, op, "grad_loss"), f32(logits, op, "logits"), indices(targets, op, "targets"),
      f32(lse, op, "lse"), logits.size(0), logits.size(1), static_cast<float>(z_loss),
      static_cast<std::int64_t*>(counted.data_ptr()), f32(grad_logits, op, "grad_logits"), stream()));
}

// The two kernels in turn: on the GPU each row's exps are cheap beside its memory traffic, and the
// backward kernel already writes the gradient over the logits in place; a grad_logits elsewhere (bf16
// for bf16 products) is converted from there.
void cross_entropy_with_gradient(const Tensor& grad_loss, const Tensor& logits, const Tensor& targets,
                                 double z_loss, const Tensor& loss, const Tensor& lse,
                                 const Tensor& grad_logits) {
  cross_entropy_forward(logits, targets, z_loss, loss, lse);
  cross_entropy_backward(grad_loss, logits, targets, lse, z_loss, logits);
  if (grad_logits.data_ptr() != logits.data_ptr()) grad_logits.copy_from(logits);
}

}  // namespace primer::cuda
