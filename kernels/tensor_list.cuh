#pragma once
// Many tensors in one launch, as PyTorch's multi_tensor_apply has them: a launch's blocks are dealt out
// over its tensors, BlockElements elements a block, and each block finds its tensor in the table of
// first blocks. The table travels in the kernel's parameters with the operands' pointers, so a launch
// uploads nothing; a kernel's list stays under the 4 KB of parameters every CUDA device takes.
#include <climits>
#include <cstdint>

#include "primer/core/host_device.h"

namespace primer::kernels {

template <int Capacity, std::int64_t BlockElements>
struct BlockSpans {
  std::int64_t count[Capacity];
  int first_block[Capacity + 1];  // tensor t takes blocks first_block[t] up to first_block[t + 1]
  int size;

  static std::int64_t blocks_needed(std::int64_t elements) {
    return (elements + BlockElements - 1) / BlockElements;
  }
  // Host side: whether a tensor of `elements` fits in this launch, and its addition.
  bool fits(std::int64_t elements) const {
    return size < Capacity && first_block[size] + blocks_needed(elements) <= INT_MAX;
  }
  int add(std::int64_t elements) {
    const int t = size++;
    count[t] = elements;
    first_block[t + 1] = first_block[t] + static_cast<int>(blocks_needed(elements));
    return t;
  }
  int blocks() const { return first_block[size]; }

  // Device side: block `block`'s tensor, and the elements [begin, end) of it the block takes.
  PRIMER_HOST_DEVICE int tensor_of(int block) const {
    int t = 0;
    while (block >= first_block[t + 1]) ++t;
    return t;
  }
  PRIMER_HOST_DEVICE std::int64_t begin(int block, int t) const {
    return static_cast<std::int64_t>(block - first_block[t]) * BlockElements;
  }
  PRIMER_HOST_DEVICE std::int64_t end(int block, int t) const {
    const std::int64_t stop = begin(block, t) + BlockElements;
    return stop < count[t] ? stop : count[t];
  }
};

}  // namespace primer::kernels
