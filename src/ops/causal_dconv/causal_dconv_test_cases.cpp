#include "op_cases.h"
#include "primer/ops/causal_dconv.h"

namespace primer::testing {
namespace {

Variable convolve(const std::vector<Variable>& v, const std::map<std::string, Tensor>&) {
  return ops::causal_dconv(v[0], v[1]);
}

const OpCaseRegistration registered{[] {
  return std::vector<OpCase>{
      {"causal_dconv", "causal_dconv", {{"x", {2, 7, 5}}, {"weight", {3, 5}}}, {}, {}, convolve},
      // A sequence shorter than the kernel exercises the zero padding alone.
      {"causal_dconv T=1", "causal_dconv", {{"x", {2, 1, 5}}, {"weight", {3, 5}}}, {}, {}, convolve},
      // Longer than the CPU backward's chunk of 64 rows: taps reaching into the previous chunk, a partial
      // last chunk.
      {"causal_dconv T=130", "causal_dconv", {{"x", {2, 130, 3}}, {"weight", {3, 3}}}, {}, {}, convolve},
  };
}};

}  // namespace
}  // namespace primer::testing
