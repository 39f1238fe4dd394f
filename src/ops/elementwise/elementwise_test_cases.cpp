// Arithmetic, reductions and shape views (their kernels are the device runtime's: backend/backend.h).
#include "op_cases.h"
#include "primer/ops/elementwise.h"

namespace primer::testing {
namespace {

using Inputs = std::vector<Variable>;
using Indices = std::map<std::string, Tensor>;

const OpInput a{"a", {3, 7}}, b{"b", {3, 7}};
const OpInput x3d{"x", {2, 3, 5}};

const OpCaseRegistration registered{[] {
  return std::vector<OpCase>{
      {"add", "add", {a, b}, {}, {}, [](const Inputs& v, const Indices&) { return ops::add(v[0], v[1]); }},
      {"sub", "sub", {a, b}, {}, {}, [](const Inputs& v, const Indices&) { return ops::sub(v[0], v[1]); }},
      {"mul", "mul", {a, b}, {}, {}, [](const Inputs& v, const Indices&) { return ops::mul(v[0], v[1]); }},
      {"scale",
       "scale",
       {a},
       {},
       {{"factor", -1.7}},
       [](const Inputs& v, const Indices&) { return ops::scale(v[0], -1.7); }},
      {"mean",
       "mean",
       {{"a", {1001}}},
       {},
       {},
       [](const Inputs& v, const Indices&) { return ops::mean(v[0]); }},
      {"reshape",
       "reshape",
       {x3d},
       {},
       {{"shape", {5, 6}}},
       [](const Inputs& v, const Indices&) {
         return ops::reshape(v[0], {5, 6});
       }},
      {"transpose",
       "transpose",
       {x3d},
       {},
       {{"dim0", 0}, {"dim1", 2}},
       [](const Inputs& v, const Indices&) { return ops::transpose(v[0], 0, 2); }},
      {"permute",
       "permute",
       {x3d},
       {},
       {{"order", {1, 2, 0}}},
       [](const Inputs& v, const Indices&) {
         return ops::permute(v[0], {1, 2, 0});
       }},
  };
}};

}  // namespace
}  // namespace primer::testing
