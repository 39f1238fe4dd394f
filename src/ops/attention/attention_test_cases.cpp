#include "op_cases.h"
#include "primer/ops/attention.h"

namespace primer::testing {
namespace {

using Inputs = std::vector<Variable>;
using Indices = std::map<std::string, Tensor>;

std::vector<OpInput> qkv(std::int64_t q_time, std::int64_t k_time, std::int64_t head_dim) {
  return {{"q", {2, q_time, 3, head_dim}}, {"k", {2, k_time, 3, head_dim}}, {"v", {2, k_time, 3, head_dim}}};
}

std::vector<OpInput> with_bias(std::vector<OpInput> inputs, std::int64_t q_time, std::int64_t k_time) {
  inputs.push_back({"bias", {3, q_time, k_time}});
  return inputs;
}

const OpCaseRegistration registered{[] {
  return std::vector<OpCase>{
      {"attention",
       "attention",
       qkv(9, 9, 5),
       {},
       {{"scale", 0.45}},
       [](const Inputs& v, const Indices&) {
         return ops::causal_attention(v[0], v[1], v[2], Variable(), 0.45);
       }},
      {"attention with bias",
       "attention_bias",
       with_bias(qkv(7, 7, 5), 7, 7),
       {},
       {{"scale", 1.0}},
       [](const Inputs& v, const Indices&) { return ops::causal_attention(v[0], v[1], v[2], v[3], 1.0); }},
      // Decoding against a cache: the queries are the last positions; a head of 40 spans two warps' lanes.
      {"attention with bias, fewer queries than keys",
       "attention_bias",
       with_bias(qkv(4, 9, 40), 4, 9),
       {},
       {{"scale", 0.8}},
       [](const Inputs& v, const Indices&) { return ops::causal_attention(v[0], v[1], v[2], v[3], 0.8); }},
  };
}};

}  // namespace
}  // namespace primer::testing
