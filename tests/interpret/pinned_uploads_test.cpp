// The CUDA backend's pinned upload pool over the emulated device. In the deferred stream mode (ctest
// runs these tests so too) queued copies run only when the host synchronises: uploads must leave the
// stream busy (the host did not wait), and every upload must arrive with the bytes it was given although
// the host changes its buffer at once and the pool reuses and recycles its pinned buffers.
#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <vector>

#include "backend/cuda/pinned_uploads.h"
#include "backend/cuda_interpret/stream_queue.h"

namespace primer::cuda {
namespace {

TEST(PinnedUploads, QueueWithoutWaitingAndDeliverTheBytesTheyWereGiven) {
  cudaStream_t stream = nullptr;
  ASSERT_EQ(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), cudaSuccess);
  // Small ones (pooled by 64 KiB buffers) and 4 MiB ones, which pass the pool's 64 MiB and make it wait
  // for its oldest buffer instead of pinning more.
  std::vector<std::size_t> counts;
  for (std::size_t i = 0; i < 12; ++i) counts.push_back(100 + i);
  for (std::size_t i = 0; i < 20; ++i) counts.push_back(PinnedUploads::kLargestStaged / sizeof(float));
  std::vector<void*> destinations;
  {
    PinnedUploads uploads;
    std::vector<float> host;
    for (std::size_t i = 0; i < counts.size(); ++i) {
      void* destination = nullptr;
      ASSERT_EQ(cudaMalloc(&destination, counts[i] * sizeof(float)), cudaSuccess);
      destinations.push_back(destination);
      host.assign(counts[i], static_cast<float>(i));
      uploads.upload(host.data(), destination, counts[i] * sizeof(float), stream);
      host.assign(counts[i], -1.0f);  // the caller's buffer is its own again
      if (i < 12 && primer::interpret::streams_deferred()) {
        EXPECT_EQ(cudaStreamQuery(stream), cudaErrorNotReady) << "upload " << i << " waited for the stream";
      }
    }
    EXPECT_LE(uploads.pinned_bytes(), std::size_t{64} << 20) << "the pool pinned past its limit";
  }
  ASSERT_EQ(cudaStreamSynchronize(stream), cudaSuccess);
  for (std::size_t i = 0; i < counts.size(); ++i) {
    std::vector<float> arrived(counts[i]);
    ASSERT_EQ(cudaMemcpy(arrived.data(), destinations[i], counts[i] * sizeof(float), cudaMemcpyDeviceToHost),
              cudaSuccess);
    EXPECT_EQ(arrived, std::vector<float>(counts[i], static_cast<float>(i))) << "upload " << i;
    cudaFree(destinations[i]);
  }
  cudaStreamDestroy(stream);
}

}  // namespace
}  // namespace primer::cuda
