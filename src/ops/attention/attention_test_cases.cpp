#include "op_cases.h"
#include "primer/ops/attention.h"

namespace primer::testing {
namespace {

using Inputs = std::vector<Variable>;
using Indices = std::map<std::string, Tensor>;

constexpr std::int64_t kHeads = 3, kBuckets = 5;

struct Sizes {
  std::int64_t batch = 2, heads = kHeads;
};

std::vector<OpInput> qkv(std::int64_t q_time, std::int64_t k_time, std::int64_t head_dim, Sizes sizes = {}) {
  return {{"q", {sizes.batch, q_time, sizes.heads, head_dim}},
          {"k", {sizes.batch, k_time, sizes.heads, head_dim}},
          {"v", {sizes.batch, k_time, sizes.heads, head_dim}}};
}

// The table has a column per head: the last input's third dimension.
std::vector<OpInput> with_table(std::vector<OpInput> inputs) {
  inputs.push_back({"table", {kBuckets, inputs.back().shape[2]}});
  return inputs;
}

// The bucket of each of k_time distances: not monotonic as T5's are, and with buckets that share
// distances far apart, so a gradient summed into the wrong bucket or distance shows.
Indices distance_buckets(std::int64_t k_time) {
  std::vector<std::int32_t> buckets;
  for (std::int64_t distance = 0; distance < k_time; ++distance)
    buckets.push_back(static_cast<std::int32_t>((distance * 3 + distance / 4) % kBuckets));
  return {{"distance_buckets", Tensor::from_vector(buckets, {k_time})}};
}

Variable biased(const Inputs& v, const Indices& indices, double scale) {
  return ops::causal_attention(v[0], v[1], v[2], {v[3], indices.at("distance_buckets")}, scale);
}

const OpCaseRegistration registered{[] {
  return std::vector<OpCase>{
      {"attention",
       "attention",
       qkv(9, 9, 5),
       {},
       {{"scale", 0.45}},
       [](const Inputs& v, const Indices&) { return ops::causal_attention(v[0], v[1], v[2], {}, 0.45); }},
      {"attention with bias",
       "attention_bias",
       with_table(qkv(7, 7, 5)),
       distance_buckets(7),
       {{"scale", 1.0}},
       [](const Inputs& v, const Indices& indices) { return biased(v, indices, 1.0); }},
      // More rows than the CPU's query block (192 rows at 260 keys): a second block starts past the
      // diagonal, its transposed products add to the key gradients the first wrote, and the bias gradient
      // gathers across blocks. One sequence of one head of 2 keeps the gradient check short (its cost grows
      // with the cube of the positions, and it runs under the sanitizers too); the smaller cases sum the
      // bias over (batch, head) pairs.
      {"attention with bias, 260 positions",
       "attention_bias",
       with_table(qkv(260, 260, 2, {.batch = 1, .heads = 1})),
       distance_buckets(260),
       {{"scale", 0.5}},
       [](const Inputs& v, const Indices& indices) { return biased(v, indices, 0.5); }},
      // Decoding against a cache: the queries are the last positions; a head of 40 spans two warps' lanes.
      {"attention with bias, fewer queries than keys",
       "attention_bias",
       with_table(qkv(4, 9, 40)),
       distance_buckets(9),
       {{"scale", 0.8}},
       [](const Inputs& v, const Indices& indices) { return biased(v, indices, 0.8); }},
  };
}};

}  // namespace
}  // namespace primer::testing
