#include "op_cases.h"
#include "primer/ops/embedding.h"

namespace primer::testing {
namespace {

const OpCaseRegistration registered{[] {
  return std::vector<OpCase>{
      {"embedding, repeated ids",
       "embedding",
       {{"table", {11, 6}}},
       {{"ids", Tensor::from_vector(std::vector<std::int32_t>{1, 4, 4, 10, 0, 3, 3, 3, 7, 9}, {2, 5})}},
       {},
       [](const std::vector<Variable>& v, const std::map<std::string, Tensor>& indices) {
         return ops::embedding(v[0], indices.at("ids"));
       }},
  };
}};

}  // namespace
}  // namespace primer::testing
