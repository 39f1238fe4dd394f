#pragma once
// T5's relative position bias: one learned scalar per (distance bucket, head), added to the attention
// logits; one table shared by every layer ("bias_shared" in Mesh-TF). Distances below buckets/2 get a
// bucket each; longer ones share logarithmically wider buckets up to max_distance.
#include <map>

#include "primer/nn/module.h"
#include "primer/tensor/random.h"

namespace primer::nn {

class RelativePositionBias : public Module {
 public:
  RelativePositionBias(std::int64_t buckets, std::int64_t max_distance, std::int64_t heads, double init_std,
                       Generator& generator);
  // The causal bias for a sequence of `time` positions: [H, time, time].
  Variable operator()(std::int64_t time) const;
  // The bias of the last `queries` of `keys` positions against all of them: [H, queries, keys].
  Variable operator()(std::int64_t queries, std::int64_t keys) const;
  // T5's unidirectional bucket of a query attending to a key `distance` = query - key >= 0 positions back.
  static std::int32_t bucket(std::int64_t distance, std::int64_t buckets, std::int64_t max_distance);

 private:
  Tensor bucket_ids(std::int64_t queries, std::int64_t keys) const;

  std::int64_t buckets_;
  std::int64_t max_distance_;
  Variable table_;
  mutable std::map<std::int64_t, Tensor> square_bucket_ids_;  // [time, time] i32 on the table's device
};

}  // namespace primer::nn
