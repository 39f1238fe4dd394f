#pragma once
// A seeded, platform-independent random source (xoshiro256** seeded by splitmix64; normals by
// Box-Muller), so initialisation and sampling give the same numbers on every machine.
#include <cstdint>

#include "primer/tensor/tensor.h"

namespace primer {

class Generator {
 public:
  explicit Generator(std::uint64_t seed = 0);
  std::uint64_t next_u64();
  double uniform();  // [0, 1)
  double normal();

 private:
  std::uint64_t state_[4];
};

// CPU tensors of the given dtype, filled element by element from the generator.
Tensor randn(const Shape& shape, DType dtype, Generator& generator, double stddev = 1.0);
Tensor rand_uniform(const Shape& shape, DType dtype, Generator& generator, double low, double high);
Tensor randint(const Shape& shape, std::int32_t low, std::int32_t high, Generator& generator);

}  // namespace primer
