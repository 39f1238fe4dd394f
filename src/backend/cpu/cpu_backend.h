#pragma once
// The CPU implementation of primer::Backend: oneDNN for matmuls, Eigen for attention's small per-head
// products, OpenMP loops for everything else. Each group of kernels lives in its own .cpp file.
#include "primer/backend/backend.h"

namespace primer::cpu {

class CpuBackend final : public Backend {
 public:
  std::string name() const override { return "cpu"; }
  // timing.cpp
  std::unique_ptr<DeviceSpan> begin_span() override;

  // copy.cpp
  void copy(const Tensor& source, const Tensor& destination) override;
  void fill(const Tensor& destination, double value) override;
  // elementwise.cpp
  void add_scaled(const Tensor& a, double alpha, const Tensor& b, double beta, const Tensor& out) override;
  void scale(const Tensor& x, double factor, const Tensor& out) override;
  void multiply(const Tensor& a, const Tensor& b, const Tensor& out) override;
  void sum(const Tensor& x, const Tensor& out) override;
  void sum_rows(const Tensor& x, const Tensor& out) override;
  void sum_squares(const Tensor& x, const Tensor& out) override;
  // matmul.cpp
  void matmul(const Tensor& a, const Tensor& b, const Tensor& bias, const Tensor& out) override;
  // embedding.cpp
  void embedding_forward(const Tensor& table, const Tensor& ids, const Tensor& out) override;
  void embedding_backward(const Tensor& grad_out, const Tensor& ids, const Tensor& grad_table) override;
  // normalization.cpp
  void layer_norm_forward(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps,
                          const Tensor& y, const Tensor& mean, const Tensor& rstd) override;
  void layer_norm_backward(const Tensor& grad_y, const Tensor& x, const Tensor& gamma, const Tensor& mean,
                           const Tensor& rstd, const Tensor& grad_x, const Tensor& grad_gamma,
                           const Tensor& grad_beta) override;
  void rms_norm_forward(const Tensor& x, const Tensor& gamma, double eps, const Tensor& y,
                        const Tensor& rstd) override;
  void rms_norm_backward(const Tensor& grad_y, const Tensor& x, const Tensor& gamma, const Tensor& rstd,
                         const Tensor& grad_x, const Tensor& grad_gamma) override;
  // activation.cpp
  void activation_forward(Activation kind, const Tensor& x, const Tensor& y) override;
  void activation_backward(Activation kind, const Tensor& x, const Tensor& grad_y,
                           const Tensor& grad_x) override;
  void swiglu_forward(const Tensor& gate, const Tensor& up, const Tensor& y) override;
  void swiglu_backward(const Tensor& gate, const Tensor& up, const Tensor& grad_y, const Tensor& grad_gate,
                       const Tensor& grad_up) override;
  // causal_dconv.cpp
  void causal_dconv_forward(const Tensor& x, const Tensor& weight, const Tensor& y) override;
  void causal_dconv_backward(const Tensor& grad_y, const Tensor& x, const Tensor& weight,
                             const Tensor& grad_x, const Tensor& grad_weight) override;
  // rotary.cpp
  void rotary(const Tensor& x, std::int64_t position_offset, double base, bool inverse,
              const Tensor& out) override;
  // attention.cpp
  void attention_forward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& bias, double scale,
                         const Tensor& out, const Tensor& lse) override;
  void attention_backward(const Tensor& grad_out, const Tensor& q, const Tensor& k, const Tensor& v,
                          const Tensor& bias, double scale, const Tensor& out, const Tensor& lse,
                          const Tensor& grad_q, const Tensor& grad_k, const Tensor& grad_v,
                          const Tensor& grad_bias) override;
  // optimizers.cpp
  void adamw_update(const Tensor& param, const Tensor& grad, const Tensor& m, const Tensor& v,
                    const AdamWStep& step) override;
  void adafactor_update(const Tensor& param, const Tensor& grad, const Tensor& row_state,
                        const Tensor& column_state, const Tensor& second_moment,
                        const AdafactorStep& step) override;
  // cross_entropy.cpp
  void cross_entropy_forward(const Tensor& logits, const Tensor& targets, double z_loss, const Tensor& loss,
                             const Tensor& lse) override;
  void cross_entropy_backward(const Tensor& grad_loss, const Tensor& logits, const Tensor& targets,
                              const Tensor& lse, double z_loss, const Tensor& grad_logits) override;
};

}  // namespace primer::cpu
