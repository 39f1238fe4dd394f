// Rotary position embedding (half-split pairs, as in GPT-NeoX and Llama).
#include <cmath>
#include <vector>

#include "backend/cpu/kernel_support.h"
#include "ops/rotary/rotary_formulas.h"
#include "ops/rotary/rotary_kernels.h"

namespace primer::cpu {

void rotary(const Tensor& x, std::int64_t position_offset, double base, bool inverse, const Tensor& out) {
  dispatch_floating(x.dtype(), "rotary", [&](auto tag) {
    using T = decltype(tag);
    using S = compute_type<T>;
    check_operands({&x, &out}, x.dtype(), "rotary");
    const std::int64_t batch = x.size(0), time = x.size(1), heads = x.size(2), half = x.size(3) / 2;
    std::vector<S> cosines(static_cast<std::size_t>(time * half)), sines(cosines.size());
    for (std::int64_t t = 0; t < time; ++t) {
      for (std::int64_t i = 0; i < half; ++i) {
        const double angle = ops::rotary_angle(position_offset + t, i, half, base);
        cosines[static_cast<std::size_t>(t * half + i)] = static_cast<S>(std::cos(angle));
        sines[static_cast<std::size_t>(t * half + i)] =
            static_cast<S>(inverse ? -std::sin(angle) : std::sin(angle));
      }
    }
    const T* px = x.data<T>();
    T* po = out.data<T>();
#pragma omp parallel for collapse(2) schedule(static)
    for (std::int64_t b = 0; b < batch; ++b) {
      for (std::int64_t t = 0; t < time; ++t) {
        const S* c = cosines.data() + t * half;
        const S* s = sines.data() + t * half;
        for (std::int64_t h = 0; h < heads; ++h) {
          const std::int64_t base_index = ((b * time + t) * heads + h) * 2 * half;
          for (std::int64_t i = 0; i < half; ++i) {
            const S first = S(px[base_index + i]);
            const S second = S(px[base_index + half + i]);
            po[base_index + i] = static_cast<T>(first * c[i] - second * s[i]);
            po[base_index + half + i] = static_cast<T>(first * s[i] + second * c[i]);
          }
        }
      }
    }
  });
}

}  // namespace primer::cpu
