#pragma once
// The CPU's runtime (primer::Backend): copies, fills, elementwise arithmetic and reductions with OpenMP,
// the optimizer updates, and a wall clock for the profile. The ops' CPU kernels are in their slices
// (src/ops/<op>/<op>_cpu.cpp).
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
  // optimizers.cpp
  void adamw_update(const Tensor& param, const Tensor& grad, const Tensor& m, const Tensor& v,
                    const AdamWStep& step) override;
  void adafactor_update(const Tensor& param, const Tensor& grad, const Tensor& row_state,
                        const Tensor& column_state, const Tensor& second_moment,
                        const AdafactorStep& step) override;
};

}  // namespace primer::cpu
