#pragma once
// Collectives over GPU buffers, for the communicators (communicator.cpp): NCCL where the build has it
// (nccl_collectives.cpp), an error naming what is missing otherwise (no_device_collectives.cpp). They
// run on a stream of their own, ordered after the work the compute stream has queued so far; waiting
// for one makes the compute stream wait, not the host, so communication overlaps the backward pass.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "primer/distributed/communicator.h"

namespace primer::distributed {

class DeviceCollectives {
 public:
  virtual ~DeviceCollectives() = default;
  virtual std::unique_ptr<PendingReduction> start_sum(const Tensor& buffer) = 0;
  virtual std::unique_ptr<PendingReduction> start_reduce_scatter(const Tensor& buffer,
                                                                 const std::vector<std::int64_t>& counts,
                                                                 const Tensor& segment_sum) = 0;
  virtual void all_gather(const Tensor& buffer, const std::vector<std::int64_t>& counts) = 0;
  virtual void broadcast(const Tensor& buffer, int root) = 0;
};

// A new group's identity, made on one rank and given to all (NCCL's unique id).
std::string new_device_group_id();
// This process's member of the group `group_id` (rank `rank` of `world_size`), on its GPU.
std::unique_ptr<DeviceCollectives> join_device_group(const std::string& group_id, int rank, int world_size);

}  // namespace primer::distributed
