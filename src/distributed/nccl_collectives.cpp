// Device collectives through NCCL (the engine GPU clusters already have), on a stream of their own.
// NCCL's collectives take equal counts per rank; the segments of a ZeRO-1 bucket differ, so the
// reduce-scatter is one ncclReduce per segment to its owner and the all-gather one ncclBroadcast per
// segment from its owner, each set in one NCCL group (what NCCL advises for variable sizes).
#include <cuda_runtime.h>
#include <nccl.h>

#include <cstring>

#include "backend/cuda/cuda_check.h"
#include "backend/cuda/cuda_kernel_support.h"
#include "distributed/device_collectives.h"

namespace primer::distributed {
namespace {

void check_nccl(ncclResult_t status, const char* call) {
  PRIMER_CHECK(status == ncclSuccess, "NCCL: {} failed: {} ({})", call, ncclGetErrorString(status),
               ncclGetLastError(nullptr));
}

float* device_f32(const Tensor& buffer, const char* call) {
  return cuda::f32(buffer, call, "buffer");
}

// An event on the collectives' stream; wait() queues the compute stream behind it.
class NcclReduction final : public PendingReduction {
 public:
  explicit NcclReduction(cudaEvent_t done) : done_(done) {}
  ~NcclReduction() override { cudaEventDestroy(done_); }
  NcclReduction(const NcclReduction&) = delete;
  NcclReduction& operator=(const NcclReduction&) = delete;
  void wait() override { PRIMER_CUDA_CHECK(cudaStreamWaitEvent(cuda::stream(), done_, 0)); }

 private:
  cudaEvent_t done_;
};

class NcclCollectives final : public DeviceCollectives {
 public:
  NcclCollectives(const std::string& group_id, int rank, int world_size)
      : rank_(rank), world_size_(world_size) {
    ncclUniqueId id;
    PRIMER_CHECK(group_id.size() == sizeof(id.internal), "NCCL: a group id of {} bytes, expected {}",
                 group_id.size(), sizeof(id.internal));
    std::memcpy(id.internal, group_id.data(), sizeof(id.internal));
    check_nccl(ncclCommInitRank(&comm_, world_size, id, rank), "ncclCommInitRank");
    PRIMER_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
  }
  ~NcclCollectives() override {
    ncclCommDestroy(comm_);
    cudaStreamDestroy(stream_);
  }
  NcclCollectives(const NcclCollectives&) = delete;
  NcclCollectives& operator=(const NcclCollectives&) = delete;

  std::unique_ptr<PendingReduction> start_sum(const Tensor& buffer) override {
    float* data = device_f32(buffer, "all-reduce");
    after_compute();
    check_nccl(ncclAllReduce(data, data, static_cast<std::size_t>(buffer.numel()), ncclFloat, ncclSum, comm_,
                             stream_),
               "ncclAllReduce");
    return finished();
  }

  std::unique_ptr<PendingReduction> start_reduce_scatter(const Tensor& buffer,
                                                         const std::vector<std::int64_t>& counts,
                                                         const Tensor& segment_sum) override {
    const float* data = device_f32(buffer, "reduce-scatter");
    float* own = segment_sum.numel() > 0 ? device_f32(segment_sum, "reduce-scatter") : nullptr;
    after_compute();
    for_each_segment(counts, [&](int owner, std::int64_t offset, std::size_t count) {
      check_nccl(ncclReduce(data + offset, owner == rank_ ? own : nullptr, count, ncclFloat, ncclSum, owner,
                            comm_, stream_),
                 "ncclReduce");
    });
    return finished();
  }

  void all_gather(const Tensor& buffer, const std::vector<std::int64_t>& counts) override {
    float* data = device_f32(buffer, "all-gather");
    after_compute();
    for_each_segment(counts, [&](int owner, std::int64_t offset, std::size_t count) {
      check_nccl(ncclBroadcast(data + offset, data + offset, count, ncclFloat, owner, comm_, stream_),
                 "ncclBroadcast");
    });
    finished()->wait();
  }

  void broadcast(const Tensor& buffer, int root) override {
    float* data = device_f32(buffer, "broadcast");
    after_compute();
    check_nccl(
        ncclBroadcast(data, data, static_cast<std::size_t>(buffer.numel()), ncclFloat, root, comm_, stream_),
        "ncclBroadcast");
    finished()->wait();
  }

 private:
  // One NCCL group of one call per non-empty segment: `call(owner, offset, count)`.
  template <typename Call>
  void for_each_segment(const std::vector<std::int64_t>& counts, Call&& call) {
    check_nccl(ncclGroupStart(), "ncclGroupStart");
    std::int64_t offset = 0;
    for (int owner = 0; owner < world_size_; ++owner) {
      const std::int64_t count = counts[static_cast<std::size_t>(owner)];
      if (count > 0) call(owner, offset, static_cast<std::size_t>(count));
      offset += count;
    }
    check_nccl(ncclGroupEnd(), "ncclGroupEnd");
  }

  // The collectives' stream waits for what the compute stream has queued (the gradients, packed).
  void after_compute() {
    cudaEvent_t ready = nullptr;
    PRIMER_CUDA_CHECK(cudaEventCreateWithFlags(&ready, cudaEventDisableTiming));
    PRIMER_CUDA_CHECK(cudaEventRecord(ready, cuda::stream()));
    PRIMER_CUDA_CHECK(cudaStreamWaitEvent(stream_, ready, 0));
    PRIMER_CUDA_CHECK(cudaEventDestroy(ready));
  }

  std::unique_ptr<PendingReduction> finished() {
    cudaEvent_t done = nullptr;
    PRIMER_CUDA_CHECK(cudaEventCreateWithFlags(&done, cudaEventDisableTiming));
    PRIMER_CUDA_CHECK(cudaEventRecord(done, stream_));
    return std::make_unique<NcclReduction>(done);
  }

  int rank_;
  int world_size_;
  ncclComm_t comm_ = nullptr;
  cudaStream_t stream_ = nullptr;
};

}  // namespace

bool device_collectives_built() {
  return true;
}

std::string new_device_group_id() {
  ncclUniqueId id;
  check_nccl(ncclGetUniqueId(&id), "ncclGetUniqueId");
  return std::string(id.internal, sizeof(id.internal));
}

std::unique_ptr<DeviceCollectives> join_device_group(const std::string& group_id, int rank, int world_size) {
  return std::make_unique<NcclCollectives>(group_id, rank, world_size);
}

}  // namespace primer::distributed
