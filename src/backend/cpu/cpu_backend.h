#pragma once
// The CPU's runtime (primer::Backend): copies, fills, elementwise arithmetic and reductions with OpenMP,
// and a wall clock for the profile. The CPU kernels of ops and optimizers are in their slices
// (src/ops/<op>/<op>_cpu.cpp, src/optim/<name>/<name>_cpu.cpp).
#include "primer/backend/backend.h"

namespace primer::cpu {

class CpuBackend final : public Backend {
 public:
  // floating_point.cpp: flushes denormal floats to zero on this thread and OpenMP's (see there).
  CpuBackend();
  std::string name() const override { return "cpu"; }
  // timing.cpp
  std::unique_ptr<DeviceSpan> begin_span() override;

  // copy.cpp
  void copy(const Tensor& source, const Tensor& destination) override;
  void fill(const Tensor& destination, double value) override;
  // elementwise.cpp
  void add_scaled(const Tensor& a, double alpha, const Tensor& b, double beta, const Tensor& out) override;
  void scale(const Tensor& x, double factor, const Tensor& out) override;
  void scale_by(const Tensor& x, const Tensor& factor, const Tensor& out) override;
  void multiply(const Tensor& a, const Tensor& b, const Tensor& out) override;
  void sum(const Tensor& x, const Tensor& out) override;
  void sum_rows(const Tensor& x, const Tensor& out) override;
  void sum_squares_each(std::span<const Tensor> xs, const Tensor& out) override;
};

}  // namespace primer::cpu
