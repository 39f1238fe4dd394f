#include "op_cases.h"
#include "primer/ops/linear.h"

namespace primer::testing {
namespace {

using Inputs = std::vector<Variable>;
using Indices = std::map<std::string, Tensor>;

Variable product(const Inputs& v, const Indices&) {
  return ops::matmul(v[0], v[1]);
}

OpCase linear_activation_case(const char* name, Activation activation) {
  return {name,
          "linear_activation",
          {{"x", {3, 7, 29}}, {"weight", {41, 29}, 0.2}, {"bias", {41}}},
          {},
          {{"activation", activation == Activation::relu ? "relu" : "squared_relu"}},
          [activation](const Inputs& v, const Indices&) {
            return ops::linear_activation(v[0], v[1], v[2], activation);
          }};
}

const OpCaseRegistration registered{[] {
  return std::vector<OpCase>{
      {"matmul 2d", "matmul", {{"a", {5, 7}}, {"b", {7, 3}}}, {}, {}, product},
      {"matmul batched", "matmul", {{"a", {3, 5, 7}}, {"b", {3, 7, 3}}}, {}, {}, product},
      {"matmul with a shared 2-D b", "matmul", {{"a", {3, 5, 7}}, {"b", {7, 4}}}, {}, {}, product},
      {"linear",
       "linear",
       {{"x", {3, 7, 29}}, {"weight", {41, 29}, 0.2}, {"bias", {41}}},
       {},
       {},
       [](const Inputs& v, const Indices&) { return ops::linear(v[0], v[1], v[2]); }},
      // The bias gradient's column sums over more rows than the CPU takes in a chunk (64).
      {"linear over 70 rows",
       "linear",
       {{"x", {2, 35, 9}}, {"weight", {5, 9}}, {"bias", {5}}},
       {},
       {},
       [](const Inputs& v, const Indices&) { return ops::linear(v[0], v[1], v[2]); }},
      // The activation as the product's epilogue; backward from the output alone.
      linear_activation_case("linear_activation relu", Activation::relu),
      linear_activation_case("linear_activation squared_relu", Activation::squared_relu),
      {"linear without bias",
       "linear_without_bias",
       {{"x", {2, 3, 7}}, {"weight", {5, 7}}},
       {},
       {},
       [](const Inputs& v, const Indices&) { return ops::linear(v[0], v[1]); }},
  };
}};

}  // namespace
}  // namespace primer::testing
