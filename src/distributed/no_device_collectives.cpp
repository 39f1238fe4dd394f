// A build without NCCL: data parallelism stays on CPUs.
#include "distributed/device_collectives.h"

namespace primer::distributed {

bool device_collectives_built() {
  return false;
}

std::string new_device_group_id() {
  PRIMER_FAIL("data parallelism on GPUs needs NCCL, and this build has none (build with CUDA and NCCL)");
}

std::unique_ptr<DeviceCollectives> join_device_group(const std::string&, int, int) {
  PRIMER_FAIL("data parallelism on GPUs needs NCCL, and this build has none (build with CUDA and NCCL)");
}

}  // namespace primer::distributed
