#pragma once
// The CUDA implementation of primer::Backend: cuBLASLt for matmuls (cuda_matmul.cpp), our kernels
// (kernels/*.cu) for everything else, all on one stream per backend. Kernels take contiguous f32
// operands, which is what training uses even under mixed precision (only matmul operands are bf16);
// copies convert between every dtype and move tensors between host and device.
#include <memory>
#include <mutex>

#include "backend/cuda/device_allocator.h"
#include "primer/backend/backend.h"

struct CUstream_st;

namespace primer::kernels {
struct DeviceFault;
}

namespace primer::cuda {

class CudaBackend final : public Backend {
 public:
  CudaBackend();  // touches no GPU: a build with CUDA must still run where there is none
  ~CudaBackend() override;
  std::string name() const override { return "cuda"; }
  std::unique_ptr<DeviceSpan> begin_span() override;
  DeviceAllocator& allocator() { return allocator_; }
  // Waits for every kernel queued so far (timing, and before host reads), then raises the first bad index
  // a kernel met since the last synchronisation (kernels/device_fault.cuh) as an Error.
  void synchronize();

  void copy(const Tensor& source, const Tensor& destination) override;
  void fill(const Tensor& destination, double value) override;
  void add_scaled(const Tensor& a, double alpha, const Tensor& b, double beta, const Tensor& out) override;
  void scale(const Tensor& x, double factor, const Tensor& out) override;
  void multiply(const Tensor& a, const Tensor& b, const Tensor& out) override;
  void sum(const Tensor& x, const Tensor& out) override;
  void sum_squares(const Tensor& x, const Tensor& out) override;
  void sum_rows(const Tensor& x, const Tensor& out) override;
  void matmul(const Tensor& a, const Tensor& b, const Tensor& bias, const Tensor& out) override;
  void embedding_forward(const Tensor& table, const Tensor& ids, const Tensor& out) override;
  void embedding_backward(const Tensor& grad_out, const Tensor& ids, const Tensor& grad_table) override;
  void layer_norm_forward(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps,
                          const Tensor& y, const Tensor& mean, const Tensor& rstd) override;
  void layer_norm_backward(const Tensor& grad_y, const Tensor& x, const Tensor& gamma, const Tensor& mean,
                           const Tensor& rstd, const Tensor& grad_x, const Tensor& grad_gamma,
                           const Tensor& grad_beta) override;
  void rms_norm_forward(const Tensor& x, const Tensor& gamma, double eps, const Tensor& y,
                        const Tensor& rstd) override;
  void rms_norm_backward(const Tensor& grad_y, const Tensor& x, const Tensor& gamma, const Tensor& rstd,
                         const Tensor& grad_x, const Tensor& grad_gamma) override;
  void activation_forward(Activation kind, const Tensor& x, const Tensor& y) override;
  void activation_backward(Activation kind, const Tensor& x, const Tensor& grad_y,
                           const Tensor& grad_x) override;
  void swiglu_forward(const Tensor& gate, const Tensor& up, const Tensor& y) override;
  void swiglu_backward(const Tensor& gate, const Tensor& up, const Tensor& grad_y, const Tensor& grad_gate,
                       const Tensor& grad_up) override;
  void causal_dconv_forward(const Tensor& x, const Tensor& weight, const Tensor& y) override;
  void causal_dconv_backward(const Tensor& grad_y, const Tensor& x, const Tensor& weight,
                             const Tensor& grad_x, const Tensor& grad_weight) override;
  void rotary(const Tensor& x, std::int64_t position_offset, double base, bool inverse,
              const Tensor& out) override;
  void attention_forward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& bias, double scale,
                         const Tensor& out, const Tensor& lse) override;
  void attention_backward(const Tensor& grad_out, const Tensor& q, const Tensor& k, const Tensor& v,
                          const Tensor& bias, double scale, const Tensor& out, const Tensor& lse,
                          const Tensor& grad_q, const Tensor& grad_k, const Tensor& grad_v,
                          const Tensor& grad_bias) override;
  void cross_entropy_forward(const Tensor& logits, const Tensor& targets, double z_loss, const Tensor& loss,
                             const Tensor& lse) override;
  void cross_entropy_backward(const Tensor& grad_loss, const Tensor& logits, const Tensor& targets,
                              const Tensor& lse, double z_loss, const Tensor& grad_logits) override;
  void adamw_update(const Tensor& param, const Tensor& grad, const Tensor& m, const Tensor& v,
                    const AdamWStep& step) override;
  void adafactor_update(const Tensor& param, const Tensor& grad, const Tensor& row_state,
                        const Tensor& column_state, const Tensor& second_moment,
                        const AdafactorStep& step) override;

 private:
  struct MatmulPlans;  // the cuBLASLt handle, workspace and plans by shape (cuda_matmul.cpp)

  CUstream_st* stream();  // created on first use
  MatmulPlans& matmul_plans();
  Tensor scratch(std::int64_t count, DType dtype);
  kernels::DeviceFault* fault_record();  // zeroed device memory, made on first use
  void raise_device_fault();

  DeviceAllocator allocator_;
  std::once_flag started_, blas_started_, fault_started_;
  Tensor fault_record_;
  CUstream_st* stream_ = nullptr;
  std::shared_ptr<MatmulPlans> plans_;
};

}  // namespace primer::cuda
