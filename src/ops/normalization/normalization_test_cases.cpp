#include "op_cases.h"
#include "primer/ops/normalization.h"

namespace primer::testing {
namespace {

using Inputs = std::vector<Variable>;
using Indices = std::map<std::string, Tensor>;

const OpInput x{"x", {3, 4, 13}, 3.0}, gamma{"gamma", {13}}, beta{"beta", {13}};
// More rows than the CPU's column sums take in a chunk (64): two chunks, the second partial.
const OpInput many_rows_x{"x", {5, 14, 13}, 3.0};

const OpCaseRegistration registered{[] {
  return std::vector<OpCase>{
      {"layer_norm",
       "layer_norm",
       {x, gamma, beta},
       {},
       {{"eps", 1e-6}},
       [](const Inputs& v, const Indices&) { return ops::layer_norm(v[0], v[1], v[2], 1e-6); }},
      {"layer_norm without beta",
       "layer_norm_without_beta",
       {x, gamma},
       {},
       {{"eps", 1e-6}},
       [](const Inputs& v, const Indices&) { return ops::layer_norm(v[0], v[1], Variable(), 1e-6); }},
      {"rms_norm",
       "rms_norm",
       {x, gamma},
       {},
       {{"eps", 1e-6}},
       [](const Inputs& v, const Indices&) { return ops::rms_norm(v[0], v[1], 1e-6); }},
      {"layer_norm over 70 rows",
       "layer_norm",
       {many_rows_x, gamma, beta},
       {},
       {{"eps", 1e-6}},
       [](const Inputs& v, const Indices&) { return ops::layer_norm(v[0], v[1], v[2], 1e-6); }},
      {"rms_norm over 70 rows",
       "rms_norm",
       {many_rows_x, gamma},
       {},
       {{"eps", 1e-6}},
       [](const Inputs& v, const Indices&) { return ops::rms_norm(v[0], v[1], 1e-6); }},
  };
}};

}  // namespace
}  // namespace primer::testing
