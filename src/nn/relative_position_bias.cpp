#include "primer/nn/relative_position_bias.h"

#include <algorithm>
#include <cmath>

#include "primer/ops/elementwise.h"
#include "primer/ops/embedding.h"

namespace primer::nn {

RelativePositionBias::RelativePositionBias(std::int64_t buckets, std::int64_t max_distance,
                                           std::int64_t heads, double init_std, Generator& generator)
    : buckets_(buckets), max_distance_(max_distance) {
  table_ = register_parameter("weight", randn({buckets, heads}, DType::f32, generator, init_std));
}

std::int32_t RelativePositionBias::bucket(std::int64_t distance, std::int64_t buckets,
                                          std::int64_t max_distance) {
  const std::int64_t n = std::max<std::int64_t>(distance, 0);
  const std::int64_t max_exact = buckets / 2;
  if (n < max_exact) return static_cast<std::int32_t>(n);
  // float arithmetic and truncation, as Mesh-TF computes it, so bucket edges agree exactly.
  const float scaled = std::log(static_cast<float>(n) / static_cast<float>(max_exact)) /
                       std::log(static_cast<float>(max_distance) / static_cast<float>(max_exact)) *
                       static_cast<float>(buckets - max_exact);
  return static_cast<std::int32_t>(
      std::min<std::int64_t>(max_exact + static_cast<std::int64_t>(scaled), buckets - 1));
}

const Tensor& RelativePositionBias::bucket_ids(std::int64_t time) const {
  auto found = bucket_ids_.find(time);
  if (found == bucket_ids_.end()) {
    Tensor ids = Tensor::empty({time, time}, DType::i32);
    std::int32_t* data = ids.data<std::int32_t>();
    for (std::int64_t query = 0; query < time; ++query) {
      for (std::int64_t key = 0; key < time; ++key)
        data[query * time + key] = bucket(query - key, buckets_, max_distance_);
    }
    found = bucket_ids_.emplace(time, ids).first;
  }
  return found->second;
}

Variable RelativePositionBias::operator()(std::int64_t time) const {
  return ops::permute(ops::embedding(table_, bucket_ids(time)), {2, 0, 1});
}

}  // namespace primer::nn
