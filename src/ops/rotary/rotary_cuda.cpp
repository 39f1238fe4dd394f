#include "backend/cuda/cuda_kernel_support.h"
#include "ops/rotary/rotary.cuh"
#include "ops/rotary/rotary_kernels.h"

namespace primer::cuda {

void rotary(const Tensor& x, std::int64_t position_offset, double base, bool inverse, const Tensor& out) {
  PRIMER_CUDA_CHECK(kernels::rotary(f32(x, "rotary", "x"), x.size(0), x.size(1), x.size(2), x.size(3),
                                    position_offset, base, inverse, f32(out, "rotary", "out"), stream()));
}

}  // namespace primer::cuda
