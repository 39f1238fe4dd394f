#pragma once
// Held-out loss: what training reports as validation loss and primer-eval reports for any text. One
// function, so the two figures are the same computation on the same tokens.
#include <cstdint>

#include "primer/data/token_loader.h"
#include "primer/models/language_model.h"

namespace primer::train {

struct Evaluation {
  double loss = 0.0;         // mean next-token cross-entropy in nats, no z-loss
  std::int64_t targets = 0;  // tokens predicted
  double perplexity() const;
  // Bits per UTF-8 byte of the text those tokens encode: comparable across tokenizers.
  double bits_per_byte(std::int64_t bytes) const;
};

// From the loader's start, over every window (max_batches 0) or the first max_batches batches; the
// matrix products in matmul_dtype, as in training. A loader with nothing to predict (a rank whose share
// of a small split is empty) gives 0 targets: the caller decides whether that is an error.
Evaluation evaluate(const LanguageModel& model, data::ValidationLoader& loader, std::int64_t max_batches,
                    DType matmul_dtype);

}  // namespace primer::train
