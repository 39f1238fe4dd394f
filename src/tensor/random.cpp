#include "primer/tensor/random.h"

#include <cmath>
#include <numbers>

namespace primer {
namespace {

std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

std::uint64_t rotl(std::uint64_t x, int k) {
  return (x << k) | (x >> (64 - k));
}

template <class Fill>
Tensor filled(const Shape& shape, DType dtype, Fill&& next_value) {
  Tensor values = Tensor::empty(shape, DType::f64);
  double* data = values.data<double>();
  for (std::int64_t i = 0; i < values.numel(); ++i) data[i] = next_value();
  return values.to(dtype);
}

}  // namespace

Generator::Generator(std::uint64_t seed) {
  for (auto& word : state_) word = splitmix64(seed);
}

std::uint64_t Generator::next_u64() {
  const std::uint64_t result = rotl(state_[1] * 5, 7) * 9;
  const std::uint64_t t = state_[1] << 17;
  state_[2] ^= state_[0];
  state_[3] ^= state_[1];
  state_[1] ^= state_[2];
  state_[0] ^= state_[3];
  state_[2] ^= t;
  state_[3] = rotl(state_[3], 45);
  return result;
}

double Generator::uniform() {
  return static_cast<double>(next_u64() >> 11) * 0x1.0p-53;
}

double Generator::normal() {
  const double u1 = 1.0 - uniform();  // (0, 1]: log stays finite
  const double u2 = uniform();
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

Tensor randn(const Shape& shape, DType dtype, Generator& generator, double stddev) {
  return filled(shape, dtype, [&] { return generator.normal() * stddev; });
}

Tensor rand_uniform(const Shape& shape, DType dtype, Generator& generator, double low, double high) {
  return filled(shape, dtype, [&] { return low + (high - low) * generator.uniform(); });
}

Tensor randint(const Shape& shape, std::int32_t low, std::int32_t high, Generator& generator) {
  PRIMER_CHECK(low < high, "randint: empty range [{}, {})", low, high);
  Tensor values = Tensor::empty(shape, DType::i32);
  std::int32_t* data = values.data<std::int32_t>();
  const auto span = static_cast<std::uint64_t>(high - low);
  for (std::int64_t i = 0; i < values.numel(); ++i) {
    data[i] = low + static_cast<std::int32_t>(generator.next_u64() % span);
  }
  return values;
}

}  // namespace primer
