#include "primer/train/evaluation.h"

#include <cmath>
#include <numbers>

#include "primer/autograd/grad_mode.h"
#include "primer/ops/matmul_precision.h"

namespace primer::train {
namespace {

std::int64_t counted_targets(const Tensor& targets) {
  std::int64_t count = 0;
  for (const std::int32_t t : targets.to_vector<std::int32_t>()) count += t >= 0;
  return count;
}

}  // namespace

double Evaluation::perplexity() const {
  return std::exp(loss);
}

double Evaluation::bits_per_byte(std::int64_t bytes) const {
  return bytes > 0 ? loss * static_cast<double>(targets) / std::numbers::ln2 / static_cast<double>(bytes)
                   : 0.0;
}

Evaluation evaluate(const LanguageModel& model, data::ValidationLoader& loader, std::int64_t max_batches,
                    DType matmul_dtype) {
  const NoGradGuard no_grad;
  const ops::MatmulPrecisionScope precision(matmul_dtype);
  loader.reset();
  double weighted_loss = 0.0;
  Evaluation result;
  data::Batch batch;
  for (std::int64_t b = 0; (max_batches == 0 || b < max_batches) && loader.next(batch); ++b) {
    const std::int64_t counted = counted_targets(batch.targets);
    if (counted == 0) continue;
    weighted_loss +=
        model.loss(batch.inputs, batch.targets, 0.0).value().item() * static_cast<double>(counted);
    result.targets += counted;
  }
  result.loss = result.targets > 0 ? weighted_loss / static_cast<double>(result.targets) : 0.0;
  return result;
}

}  // namespace primer::train
