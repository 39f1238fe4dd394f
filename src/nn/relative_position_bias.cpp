#include "primer/nn/relative_position_bias.h"

#include <algorithm>
#include <cmath>

namespace primer::nn {

RelativePositionBias::RelativePositionBias(std::int64_t buckets, std::int64_t max_distance,
                                           std::int64_t heads, double init_std, Generator& generator)
    : buckets_(buckets), max_distance_(max_distance) {
  table_ = register_parameter("weight", randn({buckets, heads}, DType::f32, generator, init_std),
                              ParameterRole::table);
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

ops::RelativeBias RelativePositionBias::operator()(std::int64_t keys) const {
  // A distance's bucket does not depend on the length: one array, built for the longest length asked so far,
  // serves every shorter one as its prefix.
  if (!distance_buckets_.defined() || distance_buckets_.size(0) < keys ||
      distance_buckets_.device() != table_.device()) {
    Tensor buckets = Tensor::empty({keys}, DType::i32);
    std::int32_t* data = buckets.data<std::int32_t>();
    for (std::int64_t distance = 0; distance < keys; ++distance)
      data[distance] = bucket(distance, buckets_, max_distance_);
    distance_buckets_ = buckets.to(table_.device());
  }
  return {table_, distance_buckets_.slice(0, 0, keys)};
}

}  // namespace primer::nn
