#pragma once
// A device's runtime: what every layer above needs from a device whatever the op (copy and fill, the
// elementwise arithmetic and reductions autograd and the optimizers use, timing spans for the profile).
// The model's ops and the optimizers' updates are not here: each is a slice (src/ops/<op>/,
// src/optim/<name>/) with its own kernel per device, found through its KernelTable (kernel_table.h). Kernels
// are destination-passing: the caller allocates outputs on the operands' device. Unless stated otherwise,
// operands are contiguous and share one floating dtype.
#include <memory>
#include <span>
#include <string>

#include "primer/backend/stats_dtype.h"
#include "primer/tensor/device_transfers.h"
#include "primer/tensor/tensor.h"

namespace primer {

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
class Backend : public DeviceTransfers {
 public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;
  // CPU: a wall clock (kernels run synchronously); CUDA: a pair of events on the backend's stream.
  virtual std::unique_ptr<DeviceSpan> begin_span() = 0;

  // out = alpha * a + beta * b. out may alias a or b (accumulation is add_scaled(g, 1, dg, 1, g)).
  virtual void add_scaled(const Tensor& a, double alpha, const Tensor& b, double beta, const Tensor& out) = 0;
  virtual void scale(const Tensor& x, double factor, const Tensor& out) = 0;
  // out = factor * x with the factor a one-element tensor of x's dtype on x's device: a scale computed
  // on the device (a loss's seed gradient) is applied without bringing it back to the host. out may be x.
  virtual void scale_by(const Tensor& x, const Tensor& factor, const Tensor& out) = 0;
  virtual void multiply(const Tensor& a, const Tensor& b, const Tensor& out) = 0;

  // out: a single element. Accumulates in double on the CPU.
  virtual void sum(const Tensor& x, const Tensor& out) = 0;
  // out [xs.size()] (f64 for f64 xs, else f32): out[i] = the sum of xs[i]^2, accumulated in double. A
  // gradient norm's terms, all of them at once so that a GPU takes a few launches, not two a gradient.
  virtual void sum_squares_each(std::span<const Tensor> xs, const Tensor& out) = 0;
  // [N, C] -> [C]: the reduction of a bias gradient.
  virtual void sum_rows(const Tensor& x, const Tensor& out) = 0;
};

// The backend that owns a device's kernels: the CPU's always, CUDA's in a build with CUDA
// (backend_registry.cpp lists them).
Backend& backend_for(Device device);

}  // namespace primer
