#pragma once
// The kernel interface every backend implements (CPU now, CUDA next). Kernels are destination-passing:
// the caller allocates outputs on the operands' device, the backend only computes. Each coarse op of the
// model zoo has one forward and one backward entry, so a backend may fuse freely inside an op while
// autograd (primer/ops) stays backend-agnostic. Unless stated otherwise, operands are contiguous and
// share one floating dtype; statistics saved for backward (mean, rstd, lse) are f64 for f64 inputs and
// f32 otherwise (see stats_dtype).
#include <memory>
#include <string>

#include "primer/backend/activation_kind.h"
#include "primer/tensor/device_transfers.h"
#include "primer/tensor/tensor.h"

namespace primer {

// One AdamW step as PyTorch defines it (decoupled weight decay, bias-corrected moments); step >= 1.
struct AdamWStep {
  double lr;
  double beta1;
  double beta2;
  double eps;
  double weight_decay;
  std::int64_t step;
};

// One Adafactor step as Mesh-TF defines it (beta1 = 0): second moments factored into row and column
// means for matrices, updates clipped to RMS clip_threshold, learning rate scaled by max(epsilon2,
// RMS(param)) when relative_step.
struct AdafactorStep {
  double lr;
  double decay;  // this step's beta2, 1 - step^-0.8 in the paper
  double epsilon1;
  double epsilon2;
  double clip_threshold;
  bool relative_step;
};

constexpr DType stats_dtype(DType input) {
  return input == DType::f64 ? DType::f64 : DType::f32;
}

// Optimizer updates (in place on parameter and state; f32 or f64 throughout).
class OptimizerKernels {
 public:
  virtual ~OptimizerKernels() = default;
  // m, v: like param.
  virtual void adamw_update(const Tensor& param, const Tensor& grad, const Tensor& m, const Tensor& v,
                            const AdamWStep& step) = 0;
  // Matrices [R, C] (or [.., C] viewed as rows): row_state [R] and column_state [C], second_moment
  // undefined. Vectors: second_moment like param, row and column state undefined.
  virtual void adafactor_update(const Tensor& param, const Tensor& grad, const Tensor& row_state,
                                const Tensor& column_state, const Tensor& second_moment,
                                const AdafactorStep& step) = 0;
};

// A stretch of a device's work, for the op profile (op_profiler.h): it starts when made, end() marks
// where it stops in the device's queue, and elapsed_ms() waits until the device has got there.
class DeviceSpan {
 public:
  virtual ~DeviceSpan() = default;
  virtual void end() = 0;
  virtual double elapsed_ms() = 0;
};

// copy and fill come from DeviceTransfers (tensor/device_transfers.h): the registry makes each backend
// its device's transfers.
class Backend : public OptimizerKernels, public DeviceTransfers {
 public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;
  // CPU: a wall clock (kernels run synchronously); CUDA: a pair of events on the backend's stream.
  virtual std::unique_ptr<DeviceSpan> begin_span() = 0;

  // out = alpha * a + beta * b. out may alias a or b (accumulation is add_scaled(g, 1, dg, 1, g)).
  virtual void add_scaled(const Tensor& a, double alpha, const Tensor& b, double beta, const Tensor& out) = 0;
  virtual void scale(const Tensor& x, double factor, const Tensor& out) = 0;
  virtual void multiply(const Tensor& a, const Tensor& b, const Tensor& out) = 0;

  // out: a single element. Accumulates in double on the CPU.
  virtual void sum(const Tensor& x, const Tensor& out) = 0;
  // out (one element, f64 for f64 x, else f32) = sum of x^2, accumulated in double: gradient norms.
  virtual void sum_squares(const Tensor& x, const Tensor& out) = 0;
  // [N, C] -> [C]: the reduction of a bias gradient.
  virtual void sum_rows(const Tensor& x, const Tensor& out) = 0;

  // out[i] = a[i] @ b[i] (+ bias broadcast over rows). a: [M, K] or [B, M, K]; b: [K, N] or [B, K, N];
  // out: [M, N] or [B, M, N], contiguous. a and b may be strided (transposed views are free).
  // f32 and bf16 operands (bf16 may write f32 or bf16 out); f64 for tests.
  virtual void matmul(const Tensor& a, const Tensor& b, const Tensor& bias, const Tensor& out) = 0;

  // table: [V, C]; ids: i32, any shape; out: ids.shape + [C]. backward accumulates into grad_table.
  virtual void embedding_forward(const Tensor& table, const Tensor& ids, const Tensor& out) = 0;
  virtual void embedding_backward(const Tensor& grad_out, const Tensor& ids, const Tensor& grad_table) = 0;

  // Over the last dimension C of x ([N, C]); beta and grad_beta may be undefined (scale-only norm).
  virtual void layer_norm_forward(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps,
                                  const Tensor& y, const Tensor& mean, const Tensor& rstd) = 0;
  virtual void layer_norm_backward(const Tensor& grad_y, const Tensor& x, const Tensor& gamma,
                                   const Tensor& mean, const Tensor& rstd, const Tensor& grad_x,
                                   const Tensor& grad_gamma, const Tensor& grad_beta) = 0;
  virtual void rms_norm_forward(const Tensor& x, const Tensor& gamma, double eps, const Tensor& y,
                                const Tensor& rstd) = 0;
  virtual void rms_norm_backward(const Tensor& grad_y, const Tensor& x, const Tensor& gamma,
                                 const Tensor& rstd, const Tensor& grad_x, const Tensor& grad_gamma) = 0;

  virtual void activation_forward(Activation kind, const Tensor& x, const Tensor& y) = 0;
  virtual void activation_backward(Activation kind, const Tensor& x, const Tensor& grad_y,
                                   const Tensor& grad_x) = 0;
  // y = silu(gate) * up
  virtual void swiglu_forward(const Tensor& gate, const Tensor& up, const Tensor& y) = 0;
  virtual void swiglu_backward(const Tensor& gate, const Tensor& up, const Tensor& grad_y,
                               const Tensor& grad_gate, const Tensor& grad_up) = 0;

  // Causal depthwise convolution of width 3 along time. x, y: [B, T, C]; weight: [3, C] with tap 0 on
  // the current position: y[b,t] = w[0] x[b,t] + w[1] x[b,t-1] + w[2] x[b,t-2], zeros before t = 0.
  virtual void causal_dconv_forward(const Tensor& x, const Tensor& weight, const Tensor& y) = 0;
  virtual void causal_dconv_backward(const Tensor& grad_y, const Tensor& x, const Tensor& weight,
                                     const Tensor& grad_x, const Tensor& grad_weight) = 0;

  // Rotary position embedding on x: [B, T, H, D], D even. Each pair (x[i], x[i + D/2]) at time t turns by
  // the angle (position_offset + t) * base^(-2i/D); inverse turns the other way (this is the backward).
  virtual void rotary(const Tensor& x, std::int64_t position_offset, double base, bool inverse,
                      const Tensor& out) = 0;

  // Causal softmax attention. q, out: [B, Tq, H, D]; k, v: [B, Tk, H, D] with Tk >= Tq, the queries being
  // the last Tq positions (Tq < Tk when decoding against a cache); bias: [H, Tq, Tk] added to the scaled
  // logits, or undefined; lse: [B, H, Tq], the log-sum-exp of each row, saved so backward can rebuild
  // probabilities without storing them. grad_bias (when bias is defined) receives the sum over the batch.
  virtual void attention_forward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& bias,
                                 double scale, const Tensor& out, const Tensor& lse) = 0;
  virtual void attention_backward(const Tensor& grad_out, const Tensor& q, const Tensor& k, const Tensor& v,
                                  const Tensor& bias, double scale, const Tensor& out, const Tensor& lse,
                                  const Tensor& grad_q, const Tensor& grad_k, const Tensor& grad_v,
                                  const Tensor& grad_bias) = 0;

  // Softmax cross-entropy over the vocabulary. logits: [N, V]; targets: [N] i32, negative = ignored.
  // loss (one element, stats dtype) = mean over counted rows of (lse - logit[target] + z_loss * lse^2).
  // lse: [N]. backward writes grad_logits = grad_loss / count * (softmax * (1 + 2 z_loss lse) - onehot).
  virtual void cross_entropy_forward(const Tensor& logits, const Tensor& targets, double z_loss,
                                     const Tensor& loss, const Tensor& lse) = 0;
  virtual void cross_entropy_backward(const Tensor& grad_loss, const Tensor& logits, const Tensor& targets,
                                      const Tensor& lse, double z_loss, const Tensor& grad_logits) = 0;
};

// The backend that owns a device's kernels: the CPU's always, CUDA's in a build with CUDA
// (backend_registry.cpp lists them).
Backend& backend_for(Device device);

}  // namespace primer
