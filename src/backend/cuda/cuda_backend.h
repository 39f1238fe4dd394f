#pragma once
// The CUDA runtime (primer::Backend): one stream for all work, the caching allocator, the device fault
// record, copies that convert between every dtype and move tensors between host and device (small
// uploads queued from pinned buffers, so the host never waits for them), and the
// elementwise and reduction kernels of kernels/. The ops' launchers are in their slices
// (src/ops/<op>/<op>_cuda.cpp) and reach the stream through cuda_kernel_support.h. Kernels take
// contiguous f32 operands, which is what training uses even under mixed precision (only matmul operands
// are bf16).
#include <memory>
#include <mutex>

#include "backend/cuda/device_allocator.h"
#include "backend/cuda/pinned_uploads.h"
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
  void scale_by(const Tensor& x, const Tensor& factor, const Tensor& out) override;
  void multiply(const Tensor& a, const Tensor& b, const Tensor& out) override;
  void sum(const Tensor& x, const Tensor& out) override;
  void sum_squares_each(std::span<const Tensor> xs, const Tensor& out) override;
  void sum_rows(const Tensor& x, const Tensor& out) override;
  // For the ops' launchers (cuda_kernel_support.h): the stream every kernel goes on, created on first
  // use; where kernels record a bad index (zeroed device memory, made on first use); temporary memory.
  CUstream_st* stream();
  kernels::DeviceFault* fault_record();
  Tensor scratch(std::int64_t count, DType dtype);

 private:
  void raise_device_fault();

  DeviceAllocator allocator_;
  PinnedUploads uploads_;
  std::once_flag started_, fault_started_;
  Tensor fault_record_;
  CUstream_st* stream_ = nullptr;
};

}  // namespace primer::cuda
