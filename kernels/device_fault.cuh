#pragma once
// A bad index found by a kernel (a token id outside the embedding table, a target outside the
// vocabulary, a distance's bucket outside the relative bias table). A device cannot throw, and trapping
// would leave the context unusable, so the kernel skips the element (attention reads the nearest bucket
// instead), the first fault is recorded here, and the backend raises it as an error naming the op, the
// position and the value at its next synchronisation.
#include "common.cuh"

namespace primer::kernels {

enum class FaultKind : int { none = 0, embedding_id = 1, cross_entropy_target = 2, attention_bucket = 3 };

struct DeviceFault {
  int kind;  // a FaultKind; 0 while nothing went wrong
  int value;
  std::int64_t position;
  std::int64_t limit;  // the valid range is [0, limit) (targets may also be negative: ignored)
};

}  // namespace primer::kernels
