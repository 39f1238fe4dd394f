#include "primer/train/gradient_reducer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>

#include "primer/backend/backend.h"
#include "primer/backend/op_profiler.h"
#include "primer/optim/optimizer.h"

namespace primer::train {
namespace {

// Largest parameters first, each to the rank that owns the fewest elements so far (the lowest on a
// tie): every rank computes the same owners.
std::vector<int> assign_owners(const std::vector<nn::NamedParameter>& parameters, int ranks) {
  std::vector<std::size_t> by_size(parameters.size());
  std::iota(by_size.begin(), by_size.end(), std::size_t{0});
  std::stable_sort(by_size.begin(), by_size.end(), [&](std::size_t a, std::size_t b) {
    return parameters[a].variable.value().numel() > parameters[b].variable.value().numel();
  });
  std::vector<std::int64_t> load(static_cast<std::size_t>(ranks), 0);
  std::vector<int> owner(parameters.size(), 0);
  for (const std::size_t i : by_size) {
    const auto least = static_cast<std::size_t>(std::min_element(load.begin(), load.end()) - load.begin());
    owner[i] = static_cast<int>(least);
    load[least] += parameters[i].variable.value().numel();
  }
  return owner;
}

}  // namespace

GradientReducer::GradientReducer(distributed::Communicator& communicator,
                                 std::vector<nn::NamedParameter> parameters, const ReducerOptions& options)
    : communicator_(communicator),
      parameters_(std::move(parameters)),
      owner_(parameters_.size(), communicator.rank()),
      active_(communicator.world_size() > 1 || options.reduce_in_world_of_one),
      sharded_(options.shard_optimizer && active_) {
  const int ranks = communicator_.world_size();
  if (!active_ || parameters_.empty()) {
    updated_here_ = parameters_;
    active_ = false;
    return;
  }
  const Device device = parameters_.front().variable.value().device();
  for (const nn::NamedParameter& parameter : parameters_) {
    PRIMER_CHECK(
        parameter.variable.value().device() == device && parameter.variable.value().dtype() == DType::f32,
        "data parallel: parameter {} is {}; the collectives take f32 parameters on one device ({})",
        parameter.name, parameter.variable.value().describe(), device.name());
  }
  if (sharded_) owner_ = assign_owners(parameters_, ranks);
  for (std::size_t i = 0; i < parameters_.size(); ++i) {
    if (owner_[i] == communicator_.rank()) updated_here_.push_back(parameters_[i]);
  }
  // Buckets in reverse order of the parameters, the order in which the backward pass finishes their
  // gradients; under ZeRO-1 a bucket's members are grouped by owner, so that each rank's share of it is
  // one segment.
  std::int64_t filled = 0;
  for (std::size_t i = parameters_.size(); i-- > 0;) {
    const std::int64_t bytes =
        parameters_[i].variable.value().numel() * static_cast<std::int64_t>(sizeof(float));
    if (buckets_.empty() || (filled > 0 && filled + bytes > options.bucket_bytes)) {
      buckets_.emplace_back();
      filled = 0;
    }
    buckets_.back().members.push_back(i);
    filled += bytes;
  }
  bucket_of_.resize(parameters_.size());
  for (std::size_t b = 0; b < buckets_.size(); ++b) {
    Bucket& bucket = buckets_[b];
    std::stable_sort(bucket.members.begin(), bucket.members.end(),
                     [&](std::size_t x, std::size_t y) { return owner_[x] < owner_[y]; });
    bucket.owned_elements.assign(static_cast<std::size_t>(ranks), 0);
    for (const std::size_t i : bucket.members) {
      bucket.owned_elements[static_cast<std::size_t>(owner_[i])] += parameters_[i].variable.value().numel();
      bucket_of_[i] = b;
    }
    const std::int64_t elements =
        std::accumulate(bucket.owned_elements.begin(), bucket.owned_elements.end(), std::int64_t{0});
    bucket.buffer = Tensor::empty({elements}, DType::f32, device);
    if (sharded_) {
      bucket.own_sum = Tensor::empty({bucket.owned_elements[static_cast<std::size_t>(communicator_.rank())]},
                                     DType::f32, device);
    }
  }
  for (std::size_t i = 0; i < parameters_.size(); ++i) {
    parameters_[i].variable.set_after_accumulation([this, i] { gradient_final(i); });
  }
}

GradientReducer::~GradientReducer() {
  if (!active_) return;
  for (nn::NamedParameter& parameter : parameters_) parameter.variable.set_after_accumulation({});
}

void GradientReducer::expect_final_gradients() {
  if (!active_) return;
  expecting_final_ = true;
  next_to_start_ = 0;
  started_during_backward_ = 0;
  for (Bucket& bucket : buckets_) bucket.final_members = 0;
}

void GradientReducer::gradient_final(std::size_t parameter) {
  if (!expecting_final_) return;
  ++buckets_[bucket_of_[parameter]].final_members;
  // Buckets start in their fixed order, whatever the order of the gradients within the pass: every rank
  // must issue the same collectives in the same order.
  while (next_to_start_ < buckets_.size() &&
         buckets_[next_to_start_].final_members == buckets_[next_to_start_].members.size()) {
    start(buckets_[next_to_start_++]);
    ++started_during_backward_;
  }
}

void GradientReducer::start(Bucket& bucket) {
  for_each_slot(bucket, 0, bucket.members.size(), bucket.buffer,
                [&](const nn::NamedParameter& parameter, const Tensor& slot) {
                  const Tensor& grad = parameter.variable.grad();
                  PRIMER_CHECK(grad.defined(), "data parallel: parameter {} has no gradient on rank {}",
                               parameter.name, communicator_.rank());
                  slot.copy_from(grad);
                });
  bucket.pending =
      sharded_ ? communicator_.start_reduce_scatter(bucket.buffer, bucket.owned_elements, bucket.own_sum)
               : communicator_.start_sum(bucket.buffer);
}

template <typename Visit>
void GradientReducer::for_each_slot(const Bucket& bucket, std::size_t first, std::size_t last,
                                    const Tensor& packed, Visit&& visit) const {
  std::int64_t offset = 0;
  for (std::size_t m = first; m < last; ++m) {
    const nn::NamedParameter& parameter = parameters_[bucket.members[m]];
    const Shape& shape = parameter.variable.value().shape();
    const std::int64_t elements = parameter.variable.value().numel();
    visit(parameter, packed.slice(0, offset, offset + elements).view(shape));
    offset += elements;
  }
}

std::pair<std::size_t, std::size_t> GradientReducer::own_members(const Bucket& bucket) const {
  const auto owned = [&](std::size_t i) { return owner_[i] == communicator_.rank(); };
  const auto first = std::find_if(bucket.members.begin(), bucket.members.end(), owned);
  const auto last = std::find_if_not(first, bucket.members.end(), owned);
  return {static_cast<std::size_t>(first - bucket.members.begin()),
          static_cast<std::size_t>(last - bucket.members.begin())};
}

std::int64_t GradientReducer::own_offset(const Bucket& bucket) const {
  return std::accumulate(bucket.owned_elements.begin(), bucket.owned_elements.begin() + communicator_.rank(),
                         std::int64_t{0});
}

void GradientReducer::average() {
  seconds_waiting_ = 0.0;
  if (!active_) return;
  const Device device = parameters_.front().variable.value().device();
  const ProfileScope profile(sharded_ ? "gradient reduce-scatter" : "gradient all-reduce", device);
  // Buckets whose gradients the backward pass did not finish (all of them without
  // expect_final_gradients(), or a parameter it did not reach) start now.
  while (next_to_start_ < buckets_.size()) start(buckets_[next_to_start_++]);
  expecting_final_ = false;
  next_to_start_ = 0;
  const double inverse_world = 1.0 / static_cast<double>(communicator_.world_size());
  Backend& backend = backend_for(device);
  const auto take_mean = [&](const nn::NamedParameter& parameter, const Tensor& sum) {
    backend.scale(sum, inverse_world, parameter.variable.grad());
  };
  for (Bucket& bucket : buckets_) {
    const auto start = std::chrono::steady_clock::now();
    bucket.pending->wait();
    bucket.pending.reset();
    seconds_waiting_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (sharded_) {
      const auto [first, last] = own_members(bucket);
      for_each_slot(bucket, first, last, bucket.own_sum, take_mean);
    } else {
      for_each_slot(bucket, 0, bucket.members.size(), bucket.buffer, take_mean);
    }
  }
}

double GradientReducer::gradient_norm() {
  const double squares = optim::gradient_squares(updated_here_);
  return std::sqrt(sharded_ ? communicator_.sum(squares) : squares);
}

void GradientReducer::share_updated_parameters() {
  if (!sharded_) return;
  const ProfileScope profile("parameter all-gather", parameters_.front().variable.value().device());
  for (const Bucket& bucket : buckets_) {
    const auto [first, last] = own_members(bucket);
    const std::int64_t offset = own_offset(bucket);
    const Tensor own = bucket.buffer.slice(
        0, offset, offset + bucket.owned_elements[static_cast<std::size_t>(communicator_.rank())]);
    for_each_slot(bucket, first, last, own, [](const nn::NamedParameter& parameter, const Tensor& slot) {
      slot.copy_from(parameter.variable.value());
    });
    communicator_.all_gather(bucket.buffer, bucket.owned_elements);
    for_each_slot(bucket, 0, bucket.members.size(), bucket.buffer,
                  [](const nn::NamedParameter& parameter, const Tensor& slot) {
                    parameter.variable.value().copy_from(slot);
                  });
  }
}

}  // namespace primer::train
