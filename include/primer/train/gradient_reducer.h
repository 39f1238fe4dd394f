#pragma once
// Keeps the replicas of a data-parallel run in step. Once per optimizer step gradients travel in buckets
// of about bucket_bytes, in a fixed order (the reverse of the parameters'): during the last
// micro-batch's backward pass a bucket starts as soon as the pass has finished all its gradients (and
// those of the buckets before it), so that communication overlaps the rest of the pass, as PyTorch's
// DistributedDataParallel does; average() starts whatever has not started and waits for all.
// Two layouts:
// - replicated optimizer state: each bucket is all-reduced and every rank updates every parameter;
// - ZeRO-1 (shard_optimizer): each parameter has one owner rank (whole tensors, so that Adafactor's
//   factored statistics stay whole; balanced by size), which alone keeps its optimizer state and
//   updates it. Gradients are reduce-scattered to their owners and the updated parameters all-gathered,
//   so the traffic is the all-reduce's while the optimizer state per rank falls by the number of ranks.
// Buffers live on the parameters' device: MPI moves CPU ones, NCCL GPU ones (on a stream of its own).
// With one rank it does nothing, unless asked to check the collectives' path anyway.
#include <cstdint>
#include <vector>

#include "primer/distributed/communicator.h"
#include "primer/nn/module.h"

namespace primer::train {

struct ReducerOptions {
  std::int64_t bucket_bytes = 25 << 20;
  bool shard_optimizer = false;         // ZeRO-1
  bool reduce_in_world_of_one = false;  // run the collectives with one rank too (a check of their path)
};

class GradientReducer {
 public:
  GradientReducer(distributed::Communicator& communicator, std::vector<nn::NamedParameter> parameters,
                  const ReducerOptions& options);
  ~GradientReducer();
  GradientReducer(const GradientReducer&) = delete;
  GradientReducer& operator=(const GradientReducer&) = delete;
  // The parameters this rank updates and keeps optimizer state for: all, or under ZeRO-1 its share.
  const std::vector<nn::NamedParameter>& updated_here() const { return updated_here_; }
  // Before the backward pass of an optimizer step's last micro-batch: buckets start during that pass.
  void expect_final_gradients();
  // The updated parameters' gradients become their mean over the ranks.
  void average();
  // The L2 norm over all parameters of the averaged gradients, the same on every rank (NaN or Inf when
  // a gradient is not finite).
  double gradient_norm();
  // After the optimizer step, under ZeRO-1: every rank receives the parameters the others updated.
  void share_updated_parameters();

  bool sharded() const { return sharded_; }
  std::size_t bucket_count() const { return buckets_.size(); }
  // Wall seconds the last average() spent waiting for the other ranks' data.
  double seconds_waiting() const { return seconds_waiting_; }
  // How many buckets of the last step started during the backward pass.
  std::size_t started_during_backward() const { return started_during_backward_; }

 private:
  struct Bucket {
    std::vector<std::size_t> members;          // indices into parameters_, grouped by owner under ZeRO-1
    std::vector<std::int64_t> owned_elements;  // ZeRO-1: elements of the bucket each rank owns
    Tensor buffer;                             // every member, packed
    Tensor own_sum;                            // ZeRO-1: this rank's segment, summed over ranks
    std::size_t final_members = 0;             // gradients the current pass has finished
    std::unique_ptr<distributed::PendingReduction> pending;
  };
  void gradient_final(std::size_t parameter);
  void start(Bucket& bucket);
  // `visit(parameter, slot)` for each member, slot being its place in `packed` (starting at `first`).
  template <typename Visit>
  void for_each_slot(const Bucket& bucket, std::size_t first, std::size_t last, const Tensor& packed,
                     Visit&& visit) const;
  std::int64_t own_offset(const Bucket& bucket) const;
  std::pair<std::size_t, std::size_t> own_members(const Bucket& bucket) const;

  distributed::Communicator& communicator_;
  std::vector<nn::NamedParameter> parameters_;
  std::vector<int> owner_;  // per parameter
  std::vector<nn::NamedParameter> updated_here_;
  bool active_ = false;  // whether gradients travel at all
  bool sharded_ = false;
  std::vector<Bucket> buckets_;
  std::vector<std::size_t> bucket_of_;  // per parameter
  bool expecting_final_ = false;
  std::size_t next_to_start_ = 0;
  std::size_t started_during_backward_ = 0;
  double seconds_waiting_ = 0.0;
};

}  // namespace primer::train
