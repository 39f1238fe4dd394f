#include "primer/nn/relative_position_bias.h"

#include <algorithm>
#include <cmath>

#include "primer/ops/elementwise.h"
#include "primer/ops/embedding.h"

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

Tensor RelativePositionBias::bucket_ids(std::int64_t queries, std::int64_t keys) const {
  Tensor ids = Tensor::empty({queries, keys}, DType::i32);
  std::int32_t* data = ids.data<std::int32_t>();
  const std::int64_t first_query = keys - queries;
  for (std::int64_t query = 0; query < queries; ++query) {
    for (std::int64_t key = 0; key < keys; ++key)
      data[query * keys + key] = bucket(first_query + query - key, buckets_, max_distance_);
  }
  return ids;
}

Variable RelativePositionBias::operator()(std::int64_t time) const {
  // Training asks for the same length every step: build its table once.
  auto found = square_bucket_ids_.find(time);
  if (found == square_bucket_ids_.end() || found->second.device() != table_.device()) {
    square_bucket_ids_[time] = bucket_ids(time, time).to(table_.device());
    found = square_bucket_ids_.find(time);
  }
  return ops::permute(ops::embedding(table_, found->second), {2, 0, 1});
}

Variable RelativePositionBias::operator()(std::int64_t queries, std::int64_t keys) const {
  PRIMER_CHECK(queries <= keys, "relative bias: {} queries cannot be the last of {} keys", queries, keys);
  return ops::permute(ops::embedding(table_, bucket_ids(queries, keys).to(table_.device())), {2, 0, 1});
}

}  // namespace primer::nn
