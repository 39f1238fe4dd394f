#pragma once
// Fused softmax cross-entropy over the vocabulary with z-loss. logits: [rows, vocab]; targets: i32,
// negative = ignored. Forward writes each row's log-sum-exp and the mean loss over counted rows;
// backward writes the logits' gradient directly from lse, never storing probabilities.
#include "common.cuh"
#include "device_fault.cuh"

namespace primer::kernels {

// loss_terms: scratch of `rows` floats. The rows counted (targets in [0, vocab)) are counted on the
// device, so the loss needs no host round trip; backward counts again into counted_scratch (one int64).
// A target at or beyond vocab is reported as a fault (device_fault.cuh) and left out.
cudaError_t cross_entropy_forward(const float* logits, const std::int32_t* targets, std::int64_t rows,
                                  std::int64_t vocab, float z_loss, float* loss_terms, float* lse,
                                  float* loss, DeviceFault* fault, cudaStream_t stream);
cudaError_t cross_entropy_backward(const float* grad_loss, const float* logits, const std::int32_t* targets,
                                   const float* lse, std::int64_t rows, std::int64_t vocab, float z_loss,
                                   std::int64_t* counted_scratch, float* grad_logits, cudaStream_t stream);

}  // namespace primer::kernels
