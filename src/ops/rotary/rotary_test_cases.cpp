#include "op_cases.h"
#include "primer/ops/rotary.h"

namespace primer::testing {
namespace {

const OpCaseRegistration registered{[] {
  return std::vector<OpCase>{
      {"rotary",
       "rotary",
       {{"x", {2, 7, 3, 6}}},
       {},
       {{"offset", 5}, {"base", 10000.0}},
       [](const std::vector<Variable>& v, const std::map<std::string, Tensor>&) {
         return ops::rotary(v[0], 5, 10000.0);
       }},
  };
}};

}  // namespace
}  // namespace primer::testing
