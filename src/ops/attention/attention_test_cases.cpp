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

// The table has a column per head: the queries' third dimension.
std::vector<OpInput> with_table(std::vector<OpInput> inputs) {
  inputs.push_back({"table", {kBuckets, inputs.front().shape[2]}});
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

// Multi-DConv-Head Attention's form: q, k, v, then their taps [3, H * D].
std::vector<OpInput> with_taps(std::vector<OpInput> inputs) {
  const std::int64_t channels = inputs.front().shape[2] * inputs.front().shape[3];
  for (const char* name : {"q_taps", "k_taps", "v_taps"}) inputs.push_back({name, {3, channels}});
  return inputs;
}

Variable convolved(const Inputs& v, const Indices& indices, double scale) {
  const ops::RelativeBias bias =
      v.size() > 6 ? ops::RelativeBias{v[6], indices.at("distance_buckets")} : ops::RelativeBias{};
  return ops::dconv_causal_attention(v[0], v[1], v[2], {v[3], v[4], v[5]}, bias, scale);
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
      // The convolutions inside attention: heads that start mid-row of the taps, a sequence shorter than
      // the taps and one longer than the CPU backward's chunk of 64 rows.
      {"attention with convolutions",
       "dconv_attention",
       with_taps(qkv(9, 9, 5)),
       {},
       {{"scale", 0.45}},
       [](const Inputs& v, const Indices& indices) { return convolved(v, indices, 0.45); }},
      {"attention with convolutions, 2 positions",
       "dconv_attention",
       with_taps(qkv(2, 2, 3)),
       {},
       {{"scale", 0.7}},
       [](const Inputs& v, const Indices& indices) { return convolved(v, indices, 0.7); }},
      {"attention with convolutions and bias, 70 positions",
       "dconv_attention_bias",
       with_table(with_taps(qkv(70, 70, 2, {.batch = 1, .heads = 2}))),
       distance_buckets(70),
       {{"scale", 0.5}},
       [](const Inputs& v, const Indices& indices) { return convolved(v, indices, 0.5); }},
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
