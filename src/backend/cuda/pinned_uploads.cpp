#include "backend/cuda/pinned_uploads.h"

#include <cuda_runtime.h>

#include <algorithm>
#include <bit>
#include <cstring>

#include "backend/cuda/cuda_check.h"

namespace primer::cuda {

PinnedUploads::~PinnedUploads() {
  for (const Buffer& buffer : buffers_) {
    cudaEventSynchronize(buffer.copied);
    cudaEventDestroy(buffer.copied);
    cudaFreeHost(buffer.data);
  }
}

PinnedUploads::Buffer& PinnedUploads::free_buffer(std::size_t bytes) {
  const auto fits = [bytes](const Buffer& buffer) { return buffer.capacity >= bytes; };
  const auto done = [](const Buffer& buffer) { return cudaEventQuery(buffer.copied) == cudaSuccess; };
  // The oldest buffer that fits and whose copy has run is the one least likely to be needed soon.
  for (Buffer& buffer : buffers_) {
    if (fits(buffer) && done(buffer)) return buffer;
  }
  if (pinned_bytes() + bytes > kMostPinned) {
    const auto oldest = std::find_if(buffers_.begin(), buffers_.end(), fits);
    if (oldest != buffers_.end()) {
      PRIMER_CUDA_CHECK(cudaEventSynchronize(oldest->copied));
      return *oldest;
    }
  }
  // Powers of two from 64 KiB, so a few sizes serve every small upload.
  Buffer buffer{nullptr, std::max<std::size_t>(std::bit_ceil(bytes), std::size_t{64} << 10), nullptr};
  PRIMER_CUDA_CHECK(cudaHostAlloc(&buffer.data, buffer.capacity, cudaHostAllocDefault));
  PRIMER_CUDA_CHECK(cudaEventCreateWithFlags(&buffer.copied, cudaEventDisableTiming));
  buffers_.push_back(buffer);
  return buffers_.back();
}

void PinnedUploads::upload(const void* host, void* device, std::size_t bytes, CUstream_st* stream) {
  PRIMER_CHECK(bytes <= kLargestStaged, "PinnedUploads: {} bytes is more than the {} it stages", bytes,
               kLargestStaged);
  std::lock_guard lock(mutex_);
  Buffer& chosen = free_buffer(bytes);
  std::memcpy(chosen.data, host, bytes);
  PRIMER_CUDA_CHECK(cudaMemcpyAsync(device, chosen.data, bytes, cudaMemcpyHostToDevice, stream));
  PRIMER_CUDA_CHECK(cudaEventRecord(chosen.copied, stream));
  // Keep the list oldest first: the buffer just used goes to the back.
  const auto position = buffers_.begin() + (&chosen - buffers_.data());
  std::rotate(position, position + 1, buffers_.end());
}

std::size_t PinnedUploads::pinned_bytes() const {
  std::size_t total = 0;
  for (const Buffer& buffer : buffers_) total += buffer.capacity;
  return total;
}

}  // namespace primer::cuda
