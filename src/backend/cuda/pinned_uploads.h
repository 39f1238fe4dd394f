#pragma once
// Host-to-device copies that do not stop the host. A copy from pageable memory may make the driver wait
// for the stream before it stages the bytes, and the host buffer of a plain cudaMemcpyAsync must outlive
// the copy; so each upload first lands in a pinned buffer of this pool and is queued from there, and the
// host goes on at once. A buffer is handed out again only once the event recorded after its copy has
// completed. This is how the step's ids, targets and loss scalars reach the GPU mid-step (PyTorch's
// pinned memory with non_blocking=True and its caching host allocator do the same).
#include <cstddef>
#include <mutex>
#include <vector>

struct CUstream_st;
struct CUevent_st;

namespace primer::cuda {

class PinnedUploads {
 public:
  // Uploads above this go through pageable memory and wait: checkpoints and weights, not the hot path.
  static constexpr std::size_t kLargestStaged = std::size_t{4} << 20;

  PinnedUploads() = default;
  ~PinnedUploads();
  PinnedUploads(const PinnedUploads&) = delete;
  PinnedUploads& operator=(const PinnedUploads&) = delete;

  // Queues a copy of `bytes` (at most kLargestStaged) from `host` to `device` on `stream`; `host` may be
  // freed or changed as soon as this returns.
  void upload(const void* host, void* device, std::size_t bytes, CUstream_st* stream);
  std::size_t pinned_bytes() const;

 private:
  struct Buffer {
    void* data;
    std::size_t capacity;
    CUevent_st* copied;  // recorded after the buffer's latest copy
  };
  Buffer& free_buffer(std::size_t bytes);  // holds mutex_

  // Beyond this, an upload waits for the oldest buffer's copy instead of pinning more memory.
  static constexpr std::size_t kMostPinned = std::size_t{64} << 20;

  mutable std::mutex mutex_;
  std::vector<Buffer> buffers_;  // in the order they were last used, oldest first
};

}  // namespace primer::cuda
