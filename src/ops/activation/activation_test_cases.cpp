#include "op_cases.h"
#include "primer/ops/activation.h"

namespace primer::testing {
namespace {

using Inputs = std::vector<Variable>;
using Indices = std::map<std::string, Tensor>;

OpCase activation_case(const char* name, Activation kind, bool kink_at_zero) {
  return {name, name, {{"x", {4, 9}, 2.0, kink_at_zero}},
          {},   {},   [kind](const Inputs& v, const Indices&) { return ops::activation(kind, v[0]); }};
}

const OpCaseRegistration registered{[] {
  return std::vector<OpCase>{
      activation_case("relu", Activation::relu, true),
      activation_case("squared_relu", Activation::squared_relu, true),
      activation_case("gelu_tanh", Activation::gelu_tanh, false),
      activation_case("silu", Activation::silu, false),
      {"swiglu",
       "swiglu",
       {{"gate", {4, 9}, 2.0}, {"up", {4, 9}}},
       {},
       {},
       [](const Inputs& v, const Indices&) { return ops::swiglu(v[0], v[1]); }},
      // More elements than the CPU kernel's chunk of 1024, the last chunk partial.
      {"swiglu over 1,200 elements",
       "swiglu",
       {{"gate", {2, 600}, 2.0}, {"up", {2, 600}}},
       {},
       {},
       [](const Inputs& v, const Indices&) { return ops::swiglu(v[0], v[1]); }},
  };
}};

}  // namespace
}  // namespace primer::testing
