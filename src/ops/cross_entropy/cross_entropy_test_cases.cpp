#include "op_cases.h"
#include "primer/ops/cross_entropy.h"

namespace primer::testing {
namespace {

OpCase cross_entropy_case(const char* name, std::int64_t vocab, double z_loss) {
  return {name,
          "cross_entropy",
          {{"logits", {7, vocab}, 3.0}},
          {{"targets", Tensor::from_vector(std::vector<std::int32_t>{0, 12, -1, 5, 5, 3, -1}, {7})}},
          {{"z_loss", z_loss}},
          [z_loss](const std::vector<Variable>& v, const std::map<std::string, Tensor>& indices) {
            return ops::cross_entropy(v[0], indices.at("targets"), z_loss);
          }};
}

// 7 rows of width 5 over 13 classes, in chunks of chunk_rows (0: one chunk); in chunks of 2 the last
// chunk's only target is ignored.
OpCase linear_cross_entropy_case(const char* name, std::int64_t chunk_rows, double z_loss) {
  return {name,
          "linear_cross_entropy",
          {{"x", {7, 5}, 2.0}, {"weight", {13, 5}}},
          {{"targets", Tensor::from_vector(std::vector<std::int32_t>{0, 12, -1, 5, 5, 3, -1}, {7})}},
          {{"z_loss", z_loss}},
          [chunk_rows, z_loss](const std::vector<Variable>& v, const std::map<std::string, Tensor>& indices) {
            return ops::linear_cross_entropy(v[0], v[1], indices.at("targets"), z_loss, nullptr, chunk_rows);
          }};
}

const OpCaseRegistration registered{[] {
  return std::vector<OpCase>{
      cross_entropy_case("cross_entropy with z-loss and ignored targets", 13, 1e-2),
      cross_entropy_case("cross_entropy without z-loss", 13, 0.0),
      // A vocabulary wider than a block of threads.
      cross_entropy_case("cross_entropy over 1013 classes", 1013, 1e-4),
      linear_cross_entropy_case("linear_cross_entropy in one chunk", 0, 1e-2),
      linear_cross_entropy_case("linear_cross_entropy in chunks of 3", 3, 0.0),
      linear_cross_entropy_case("linear_cross_entropy in chunks of 2 with z-loss", 2, 1e-2),
  };
}};

}  // namespace
}  // namespace primer::testing
