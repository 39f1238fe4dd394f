#pragma once
// T5's relative position bias: one learned scalar per (distance bucket, head), added to the attention
// logits; one table shared by every layer ("bias_shared" in Mesh-TF). Distances below buckets/2 get a
// bucket each; longer ones share logarithmically wider buckets up to max_distance.

#include "primer/nn/module.h"
#include "primer/ops/attention.h"
#include "primer/tensor/random.h"

namespace primer::nn {

class RelativePositionBias : public Module {
 public:
  RelativePositionBias(std::int64_t buckets, std::int64_t max_distance, std::int64_t heads, double init_std,
                       Generator& generator);
  // The bias of queries against `keys` positions (theirs and those before them), as attention takes it.
  ops::RelativeBias operator()(std::int64_t keys) const;
  // T5's unidirectional bucket of a query attending to a key `distance` = query - key >= 0 positions back.
  static std::int32_t bucket(std::int64_t distance, std::int64_t buckets, std::int64_t max_distance);

 private:
  std::int64_t buckets_;
  std::int64_t max_distance_;
  Variable table_;
  mutable Tensor distance_buckets_;  // i32 on the table's device, the longest length asked so far
};

}  // namespace primer::nn
