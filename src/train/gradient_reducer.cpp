#include "primer/train/gradient_reducer.h"

#include <chrono>

#include "primer/backend/backend.h"
#include "primer/backend/op_profiler.h"

namespace primer::train {

GradientReducer::GradientReducer(distributed::Communicator& communicator,
                                 std::vector<nn::NamedParameter> parameters, std::int64_t bucket_bytes)
    : communicator_(communicator), parameters_(std::move(parameters)) {
  if (communicator_.world_size() == 1) return;
  std::int64_t filled = 0;
  for (std::size_t i = 0; i < parameters_.size(); ++i) {
    const Tensor& value = parameters_[i].variable.value();
    PRIMER_CHECK(value.device() == Device::cpu() && value.dtype() == DType::f32,
                 "data parallel: parameter {} is {}; the MPI all-reduce takes f32 CPU gradients",
                 parameters_[i].name, value.describe());
    const std::int64_t bytes = value.numel() * static_cast<std::int64_t>(sizeof(float));
    if (buckets_.empty() || (filled > 0 && filled + bytes > bucket_bytes)) {
      buckets_.emplace_back();
      filled = 0;
    }
    buckets_.back().members.push_back(i);
    filled += bytes;
  }
  for (Bucket& bucket : buckets_) {
    std::int64_t elements = 0;
    for (const std::size_t i : bucket.members) elements += parameters_[i].variable.value().numel();
    bucket.buffer = Tensor::empty({elements}, DType::f32);
  }
}

void GradientReducer::average() {
  seconds_waiting_ = 0.0;
  if (communicator_.world_size() == 1) return;
  const ProfileScope profile("gradient all-reduce", Device::cpu());
  const auto slots = [this](const Bucket& bucket, auto&& visit) {
    std::int64_t offset = 0;
    for (const std::size_t i : bucket.members) {
      const nn::NamedParameter& parameter = parameters_[i];
      const Tensor& grad = parameter.variable.grad();
      PRIMER_CHECK(grad.defined(), "data parallel: parameter {} has no gradient on rank {}", parameter.name,
                   communicator_.rank());
      visit(grad, bucket.buffer.slice(0, offset, offset + grad.numel()).view(grad.shape()));
      offset += grad.numel();
    }
  };
  std::vector<std::unique_ptr<distributed::PendingReduction>> pending;
  for (Bucket& bucket : buckets_) {
    slots(bucket, [](const Tensor& grad, const Tensor& slot) { slot.copy_from(grad); });
    pending.push_back(communicator_.start_sum(bucket.buffer));
  }
  const double inverse_world = 1.0 / static_cast<double>(communicator_.world_size());
  Backend& cpu = backend_for(Device::cpu());
  for (std::size_t b = 0; b < buckets_.size(); ++b) {
    const auto start = std::chrono::steady_clock::now();
    pending[b]->wait();
    seconds_waiting_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    slots(buckets_[b], [&](const Tensor& grad, const Tensor& slot) { cpu.scale(slot, inverse_world, grad); });
  }
}

}  // namespace primer::train
