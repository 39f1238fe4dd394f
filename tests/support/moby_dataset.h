#pragma once
// The token dataset several tests train on: the committed Moby Dick excerpt, encoded with the tokenizer
// the ctest fixture trains (vocabulary 1000), once per test process.
#include <filesystem>
#include <string>

#include "primer/data/corpus_encoder.h"
#include "temporary.h"

namespace primer::testing {

inline std::string moby_tokenizer_path() {
  return std::string(PRIMER_TEST_ARTIFACTS) + "/moby_tokenizer.model";
}

inline std::string moby_dataset() {
  const std::string directory = temporary_path("moby_dataset");
  if (!std::filesystem::exists(directory + "/meta.json")) {
    data::EncodeOptions options;
    options.inputs = {std::string(PRIMER_SOURCE_DIR) + "/tests/data/moby_dick_200k.txt"};
    options.tokenizer = moby_tokenizer_path();
    options.output_directory = directory;
    options.validation_fraction = 0.05;
    data::encode_corpus(options);
  }
  return directory;
}

}  // namespace primer::testing
