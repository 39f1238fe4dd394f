#include "primer/sampling/token_sampler.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "primer/core/error.h"

namespace primer::sampling {

void validate(const SamplingOptions& options) {
  PRIMER_CHECK(std::isfinite(options.temperature) && options.temperature >= 0.0,
               "temperature must be >= 0 (0 is greedy), got {}", options.temperature);
  PRIMER_CHECK(options.top_k >= 0, "top-k must be >= 0 (0 keeps every token), got {}", options.top_k);
  PRIMER_CHECK(options.top_p > 0.0 && options.top_p <= 1.0, "top-p must be in (0, 1], got {}", options.top_p);
  PRIMER_CHECK(std::isfinite(options.repetition_penalty) && options.repetition_penalty > 0.0,
               "repetition penalty must be > 0 (1 is none), got {}", options.repetition_penalty);
}

std::int32_t choose_token(std::span<const float> logits, std::span<const std::int32_t> context,
                          const SamplingOptions& options, Generator& generator) {
  validate(options);
  PRIMER_CHECK(!logits.empty(), "choose_token: empty logits");
  std::vector<double> scores(logits.begin(), logits.end());
  PRIMER_CHECK(std::all_of(scores.begin(), scores.end(), [](double s) { return std::isfinite(s); }),
               "choose_token: the model produced a non-finite logit (a diverged checkpoint?)");
  if (options.repetition_penalty != 1.0) {
    std::vector<bool> seen(scores.size(), false);
    for (const std::int32_t token : context) {
      if (token >= 0 && static_cast<std::size_t>(token) < seen.size())
        seen[static_cast<std::size_t>(token)] = true;
    }
    for (std::size_t i = 0; i < scores.size(); ++i) {
      if (seen[i])
        scores[i] =
            scores[i] > 0 ? scores[i] / options.repetition_penalty : scores[i] * options.repetition_penalty;
    }
  }
  if (options.temperature == 0.0) {
    return static_cast<std::int32_t>(std::max_element(scores.begin(), scores.end()) - scores.begin());
  }

  // Most likely first; equal scores by id, so the order (and the draw) does not depend on the sort.
  std::vector<std::int32_t> order(scores.size());
  std::iota(order.begin(), order.end(), 0);
  const auto more_likely = [&](std::int32_t a, std::int32_t b) {
    const double sa = scores[static_cast<std::size_t>(a)], sb = scores[static_cast<std::size_t>(b)];
    return sa > sb || (sa == sb && a < b);
  };
  std::size_t kept = order.size();
  if (options.top_k > 0 && static_cast<std::size_t>(options.top_k) < kept) {
    kept = static_cast<std::size_t>(options.top_k);
    std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(kept), order.end(),
                      more_likely);
  } else {
    std::sort(order.begin(), order.end(), more_likely);
  }

  const double top = scores[static_cast<std::size_t>(order.front())];
  std::vector<double> weights(kept);
  double total = 0.0;
  for (std::size_t i = 0; i < kept; ++i) {
    weights[i] = std::exp((scores[static_cast<std::size_t>(order[i])] - top) / options.temperature);
    total += weights[i];
  }
  if (options.top_p < 1.0) {
    // The smallest prefix whose probability reaches top_p; always at least the most likely token.
    double mass = 0.0;
    std::size_t nucleus = 0;
    while (nucleus < kept && mass < options.top_p * total) mass += weights[nucleus++];
    kept = std::max<std::size_t>(nucleus, 1);
    total = std::accumulate(weights.begin(), weights.begin() + static_cast<std::ptrdiff_t>(kept), 0.0);
  }

  double draw = generator.uniform() * total;
  for (std::size_t i = 0; i < kept; ++i) {
    draw -= weights[i];
    if (draw < 0.0) return order[i];
  }
  return order[kept - 1];
}

}  // namespace primer::sampling
